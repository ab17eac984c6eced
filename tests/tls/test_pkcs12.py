"""tightbind.tls.pkcs12: PKCS#12 files and private keys against the openssl command.

Oracles: ``openssl pkcs12`` and ``openssl pkey`` print what a file or key holds.
"""

from __future__ import annotations

import re
import subprocess

import hypothesis
import pytest
from helpers.pki import PASSWORD, Pki
from hypothesis import strategies as st

import tightbind
from tightbind import tls
from tightbind.tls import pkcs12 as tls_pkcs12
from tightbind.tls._native import c_password, password_forms

PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----\n.*?-----END \1-----\n", re.DOTALL)


def pem_blocks(text: bytes, kind: bytes = b"CERTIFICATE") -> list[bytes]:
    return [m.group(0) for m in PEM_BLOCK.finditer(text) if m.group(1) == kind]


def p12_bytes(pki: Pki, name: str) -> bytes:
    return pki.files[f"{name}.p12"].read_bytes()


def openssl_p12(pki: Pki, name: str, *args: str, password: str = PASSWORD) -> bytes:
    legacy = ("-legacy",) if name == "legacy" else ()
    return pki.openssl("pkcs12", "-in", f"{name}.p12", "-passin", f"pass:{password}",
                       *legacy, *args)


# ------------------------------------------------------------------ PKCS#12 contents

P12_CASES = [
    # name, password, has key, main cert file, CA cert files
    ("aes", PASSWORD, True, "leaf", ["inter", "root"]),
    ("legacy", PASSWORD, True, "leaf", ["inter", "root"]),
    ("empty", "", True, "ec_leaf", ["inter"]),
    ("plain", PASSWORD, True, "ec_leaf", []),
]


@pytest.mark.parametrize("name,password,has_key,main,cas", P12_CASES)
def test_p12_contents_equal_openssl(pki: Pki, name: str, password: str, has_key: bool,
                                    main: str, cas: list[str]) -> None:
    p12 = tls.load_pkcs12(p12_bytes(pki, name), password)
    cert_pem = tls.dump_certificate(tls.FILETYPE_PEM, p12.get_certificate())
    assert pem_blocks(openssl_p12(pki, name, "-nokeys", "-clcerts", password=password)) == \
        [cert_pem]
    assert cert_pem == pki.openssl("x509", "-in", f"{main}.pem")
    ca_pems = [tls.dump_certificate(tls.FILETYPE_PEM, c) for c in p12.ca_certificates]
    assert ca_pems == pem_blocks(openssl_p12(pki, name, "-nokeys", "-cacerts",
                                             password=password))
    assert ca_pems == [pki.files[f"{ca}.pem"].read_bytes() for ca in cas]
    key_text = openssl_p12(pki, name, "-nocerts", "-nodes", password=password)
    expected_key = pki.openssl("pkey", input=key_text)
    assert tls.dump_privatekey(tls.FILETYPE_PEM, p12.get_privatekey()) == expected_key
    assert expected_key.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    der = pki.openssl("pkey", "-outform", "DER", input=key_text)
    assert tls.dump_privatekey(tls.FILETYPE_ASN1, p12.private_key) == der
    assert p12.certificate is p12.get_certificate()
    assert p12.private_key is p12.get_privatekey()


def test_p12_friendly_names_equal_openssl_info(pki: Pki) -> None:
    p12 = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    info = openssl_p12(pki, "aes", "-nokeys").decode()
    names = re.findall(r"friendlyName: (.*)", info)
    assert names == ["leaf friendly", "inter friendly", "root friendly"]
    assert p12.get_friendlyname() == b"leaf friendly"
    assert p12.certificate.friendly_name == "leaf friendly"
    assert [c.friendly_name for c in p12.get_ca_certificates()] == names[1:]


def test_p12_without_key_puts_every_certificate_in_cas(pki: Pki) -> None:
    p12 = tls.load_pkcs12(p12_bytes(pki, "nokey"), PASSWORD)
    assert p12.get_privatekey() is None
    assert p12.get_certificate() is None
    assert p12.get_friendlyname() is None
    assert [c.pem.encode() for c in p12.get_ca_certificates()] == \
        pem_blocks(openssl_p12(pki, "nokey", "-nokeys"))


@pytest.mark.parametrize("password", [None, "", b""])
def test_empty_password_none_and_empty_string(pki: Pki, password: str | bytes | None) -> None:
    p12 = tls.load_pkcs12(p12_bytes(pki, "empty"), password)
    assert p12.get_privatekey().key_type == "EC"
    assert p12.get_ca_certificates()[0].subject.CN == "Test Intermediate CA"


def test_password_as_bytes_and_str(pki: Pki) -> None:
    data = p12_bytes(pki, "aes")
    assert tls.load_pkcs12(data, PASSWORD.encode()).certificate == \
        tls.load_pkcs12(data, PASSWORD).certificate


def test_key_matches_certificate(pki: Pki) -> None:
    p12 = tls.load_pkcs12(p12_bytes(pki, "legacy"), PASSWORD)
    cert_key = pki.openssl("x509", "-in", "leaf.pem", "-noout", "-pubkey")
    assert p12.private_key.public_pem() == cert_key
    assert p12.private_key.bits() == 2048


def test_classic_pyopenssl_example(pki: Pki) -> None:
    # The pyOpenSSL-era example with only its import line changed.
    from tightbind.tls import FILETYPE_PEM, dump_certificate, dump_privatekey, load_pkcs12

    p12 = load_pkcs12(open(pki.files["aes.p12"], "rb").read(), PASSWORD)  # noqa: SIM115
    cert = p12.get_certificate()
    key = p12.get_privatekey()
    chain = p12.get_ca_certificates()
    assert dump_certificate(FILETYPE_PEM, cert).startswith(b"-----BEGIN CERTIFICATE-----")
    assert dump_privatekey(FILETYPE_PEM, key).startswith(b"-----BEGIN PRIVATE KEY-----")
    assert cert.get_subject().get_components()[0] == (b"C", b"NZ")
    assert dict(cert.get_issuer().get_components())[b"CN"] == b"Test Intermediate CA"
    assert len(chain) == 2


# ------------------------------------------------------------------ PKCS#12 errors


def test_wrong_password(pki: Pki) -> None:
    with pytest.raises(tls.WrongPassword, match="password") as info:
        tls.load_pkcs12(p12_bytes(pki, "aes"), "not it")
    assert isinstance(info.value, tightbind.TlsError)
    assert isinstance(info.value, ValueError)


def test_wrong_password_on_legacy_file(pki: Pki) -> None:
    with pytest.raises(tls.WrongPassword, match="password"):
        tls.load_pkcs12(p12_bytes(pki, "legacy"), "not it")


def test_missing_password(pki: Pki) -> None:
    with pytest.raises(tls.WrongPassword, match="password"):
        tls.load_pkcs12(p12_bytes(pki, "aes"))


@pytest.mark.parametrize("cut", [0, 1, 20, 200, -1])
def test_truncated_file(pki: Pki, cut: int) -> None:
    data = p12_bytes(pki, "aes")
    with pytest.raises(tls.NotPkcs12, match="not a PKCS#12"):
        tls.load_pkcs12(data[:cut] if cut >= 0 else data[:len(data) // 2], PASSWORD)


@pytest.mark.parametrize("name", ["leaf.pem", "leaf.key"])
def test_not_pkcs12(pki: Pki, name: str) -> None:
    with pytest.raises(tls.NotPkcs12):
        tls.load_pkcs12(pki.files[name].read_bytes(), PASSWORD)


def test_certificate_der_is_not_pkcs12(pki: Pki) -> None:
    der = tls.load_certificate(tls.FILETYPE_PEM, pki.files["leaf.pem"].read_bytes()).der
    with pytest.raises(tls.NotPkcs12):
        tls.load_pkcs12(der, PASSWORD)


def test_mac_less_file_refused_then_allowed(pki: Pki) -> None:
    data = p12_bytes(pki, "nomac")
    with pytest.raises(tls.MissingMac, match="MAC"):
        tls.load_pkcs12(data, PASSWORD)
    p12 = tls.load_pkcs12(data, PASSWORD, allow_missing_mac=True)
    assert p12.certificate.pem.encode() == pki.files["ec_leaf.pem"].read_bytes()
    with pytest.raises(tls.WrongPassword, match="password"):
        tls.load_pkcs12(data, "not it", allow_missing_mac=True)


def test_corrupted_byte_fails_cleanly(pki: Pki) -> None:
    data = bytearray(p12_bytes(pki, "aes"))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(tls.TlsError):
        tls.load_pkcs12(bytes(data), PASSWORD)


def test_argument_errors(pki: Pki) -> None:
    data = p12_bytes(pki, "aes")
    with pytest.raises(TypeError):
        tls.load_pkcs12(data.decode("latin-1"), PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tls.load_pkcs12(data, 1234)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NUL"):
        tls.load_pkcs12(data, "a\0b")


AES_256_CBC_OID = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42
SHA256_OID = bytes.fromhex("0609608648016503040201")  # 2.16.840.1.101.3.4.2.1
UNKNOWN_OID = bytes.fromhex("060960864801650304017f")  # an arc nothing implements


def test_unsupported_cipher(pki: Pki) -> None:
    # A MAC-less file (so the edit is not caught by a MAC) whose bags' cipher is unknown.
    data = p12_bytes(pki, "nomac")
    assert AES_256_CBC_OID in data
    with pytest.raises(tls.UnsupportedAlgorithm, match="algorithm"):
        tls.load_pkcs12(data.replace(AES_256_CBC_OID, UNKNOWN_OID), PASSWORD,
                        allow_missing_mac=True)


def test_unsupported_mac_digest(pki: Pki) -> None:
    data = p12_bytes(pki, "aes")
    assert data.count(SHA256_OID) == 1
    with pytest.raises(tls.UnsupportedAlgorithm) as info:
        tls.load_pkcs12(data.replace(SHA256_OID, UNKNOWN_OID), PASSWORD)
    assert not isinstance(info.value, tls.WrongPassword)


# ------------------------------------------------------------------ create_pkcs12


@pytest.mark.parametrize("legacy", [False, True])
def test_create_round_trips_through_openssl(pki: Pki, tmp_path, legacy: bool) -> None:  # type: ignore[no-untyped-def]
    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    data = tls.create_pkcs12(source.private_key, source.certificate, source.ca_certificates,
                             passphrase="new pw", friendly_name="made here", legacy=legacy)
    path = tmp_path / "made.p12"
    path.write_bytes(data)
    info = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-info", "-noout",
                           "-passin", "pass:new pw", *(["-legacy"] if legacy else [])],
                          capture_output=True, text=True, check=True).stderr
    if legacy:
        assert "pbeWithSHA1And40BitRC2-CBC" in info and "sha1" in info
    else:
        assert "AES-256-CBC" in info and "sha256" in info
    again = tls.load_pkcs12(data, "new pw")
    assert again.certificate == source.certificate
    assert again.private_key == source.private_key
    assert again.ca_certificates == source.ca_certificates
    assert again.get_friendlyname() == b"made here"
    assert tls.load_pkcs12(source.export(PASSWORD), PASSWORD).certificate == source.certificate


def test_create_with_empty_password_opens_with_none(pki: Pki) -> None:
    source = tls.load_pkcs12(p12_bytes(pki, "empty"))
    data = tls.create_pkcs12(source.private_key, source.certificate)
    assert tls.load_pkcs12(data, None).certificate == source.certificate
    assert tls.load_pkcs12(data, "").certificate == source.certificate


def test_create_argument_errors(pki: Pki) -> None:
    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    other = tls.load_pkcs12(p12_bytes(pki, "empty"))
    with pytest.raises(ValueError):
        tls.create_pkcs12(None, None)
    with pytest.raises(TypeError):
        tls.create_pkcs12(source.certificate, source.certificate)  # type: ignore[arg-type]
    with pytest.raises(tls.TlsError):
        tls.create_pkcs12(other.private_key, source.certificate)  # key does not match


# ------------------------------------------------------------------ create_pkcs12 options


def p12_info(data: bytes, tmp_path, password: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """What ``openssl pkcs12 -info`` says of a file: the MAC line, the encryption of the
    certificates ("PKCS7 Encrypted data") and of the key ("Shrouded Keybag"), and the
    friendlyName of each certificate, by subject CN."""
    path = tmp_path / "options.p12"
    path.write_bytes(data)
    done = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-info", "-nokeys",
                           "-passin", f"pass:{password}", "-legacy"],
                          capture_output=True, text=True, check=True, timeout=60)
    lines = done.stderr.splitlines()
    names: list[str] = []
    pending = "-"
    for line in done.stdout.splitlines():
        if line.strip().startswith("friendlyName:"):
            pending = line.split(":", 1)[1].strip()
        elif line.startswith("subject="):
            names.append(f"{line.rsplit('CN = ', 1)[1].split(',')[0]}: {pending}")
            pending = "-"
    return {"mac": [line for line in lines if line.startswith("MAC:")],
            "certs": [line.split(": ", 1)[1] for line in lines
                      if line.startswith("PKCS7 Encrypted data:")],
            "key": [line.split(": ", 1)[1] for line in lines
                    if line.startswith("Shrouded Keybag:")],
            "names": names}


def _pbes2(rounds: int) -> str:
    return f"PBES2, PBKDF2, AES-256-CBC, Iteration {rounds}, PRF hmacWithSHA256"


WRITE_CASES = [
    # options, what openssl says of the certificates, of the key, of the MAC
    ({}, _pbes2(2048), _pbes2(2048), "MAC: sha256, Iteration 2048"),
    ({"encryption": "aes-256-cbc", "iterations": 10000, "mac_hash": "sha512",
      "mac_iterations": 7}, _pbes2(10000), _pbes2(10000), "MAC: sha512, Iteration 7"),
    ({"encryption": "3des", "iterations": 5000, "mac_hash": "sha1", "mac_iterations": 3000},
     "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 5000",
     "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 5000", "MAC: sha1, Iteration 3000"),
    ({"encryption": "3DES", "mac_hash": "SHA-384", "mac_iterations": 1},
     "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
     "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048", "MAC: sha384, Iteration 1"),
    ({"encryption": "rc2-40", "mac_hash": "sha1"}, "pbeWithSHA1And40BitRC2-CBC, Iteration 2048",
     "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048", "MAC: sha1, Iteration 2048"),
    ({"legacy": True, "iterations": 4096}, "pbeWithSHA1And40BitRC2-CBC, Iteration 4096",
     "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 4096", "MAC: sha1, Iteration 2048"),
]


@pytest.mark.parametrize(("options", "certs", "key", "mac"), WRITE_CASES)
def test_create_options_as_openssl_reads_them(pki: Pki, tmp_path, options: dict[str, object],  # type: ignore[no-untyped-def]
                                              certs: str, key: str, mac: str) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12 as cpkcs12

    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    data = tls.create_pkcs12(source.private_key, source.certificate, source.ca_certificates,
                             "new pw", "Main", ca_friendly_names=["Inter CA", "Root CA"],
                             **options)  # type: ignore[arg-type]
    info = p12_info(data, tmp_path, "new pw")
    assert info == {"mac": [mac], "certs": [certs], "key": [key],
                    "names": ["localhost: Main", "Test Intermediate CA: Inter CA",
                              "Test Root CA: Root CA"]}
    again = tls.load_pkcs12(data, "new pw")
    assert (again.private_key, again.certificate, again.ca_certificates) == \
        (source.private_key, source.certificate, source.ca_certificates)
    assert [ca.friendly_name for ca in again.ca_certificates] == ["Inter CA", "Root CA"]
    assert again.get_friendlyname() == b"Main"
    theirs = cpkcs12.load_pkcs12(data, b"new pw")
    assert theirs.cert is not None and theirs.cert.friendly_name == b"Main"
    assert theirs.cert.certificate == source.certificate.to_cryptography()  # type: ignore[union-attr]
    assert [(c.certificate, c.friendly_name) for c in theirs.additional_certs] == \
        [(ca.to_cryptography(), name) for ca, name in
         zip(source.ca_certificates, [b"Inter CA", b"Root CA"], strict=True)]
    assert theirs.key is not None and \
        tls.PKey.from_cryptography(theirs.key) == source.private_key


def test_ca_friendly_names_default_to_the_certificates_own(pki: Pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    assert [ca.friendly_name for ca in source.ca_certificates] == ["inter friendly",
                                                                   "root friendly"]
    source.ca_certificates[0].friendly_name = "renamed inter"
    data = source.export("pw", encryption="3des")
    again = tls.load_pkcs12(data, "pw")
    assert [ca.friendly_name for ca in again.ca_certificates] == ["renamed inter",
                                                                  "root friendly"]
    assert p12_info(data, tmp_path, "pw")["names"][1:] == \
        ["Test Intermediate CA: renamed inter", "Test Root CA: root friendly"]
    unnamed = tls.load_pkcs12(source.export("pw", ca_friendly_names=[None, b"root"]), "pw")
    assert [ca.friendly_name for ca in unnamed.ca_certificates] == [None, "root"]


def test_certificate_only_and_key_only_files(pki: Pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    certs_only = tls.create_pkcs12(None, source.certificate, source.ca_certificates, "pw",
                                   encryption="3des", iterations=3)
    info = p12_info(certs_only, tmp_path, "pw")
    assert info["key"] == [] and info["certs"] == ["pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 3"]
    key_only = tls.create_pkcs12(source.private_key, None, (), "pw", iterations=5)
    info = p12_info(key_only, tmp_path, "pw")
    assert info["certs"] == [] and info["key"] == [_pbes2(5)]
    assert tls.load_pkcs12(key_only, "pw").private_key == source.private_key


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"encryption": "aes-128-cbc"}, tls.InvalidArgument, "unknown encryption 'aes-128-cbc'"),
    ({"encryption": "rc4"}, tls.InvalidArgument, "unknown encryption"),
    ({"encryption": 3}, TypeError, "encryption must be a str"),
    ({"mac_hash": "md5"}, tls.InvalidArgument, "unknown mac_hash 'md5'"),
    ({"mac_hash": b"sha1"}, TypeError, "mac_hash must be a str"),
    ({"iterations": 0}, tls.InvalidArgument, "iterations must be from 1 to"),
    ({"iterations": -5}, tls.InvalidArgument, "iterations must be from 1"),
    ({"iterations": 2.5}, TypeError, "iterations must be an int"),
    ({"iterations": True}, TypeError, "iterations must be an int"),
    ({"mac_iterations": 0}, tls.InvalidArgument, "mac_iterations must be from 1"),
    ({"mac_iterations": "9"}, TypeError, "mac_iterations must be an int"),
    ({"iterations": 2**40}, tls.InvalidArgument, "iterations must be from 1 to 4000000"),
    ({"iterations": 1_500_000, "mac_iterations": 1_500_000}, tls.InvalidArgument,
     "make 4500000 rounds of key derivation, more than load_pkcs12 does"),
    ({"legacy": True, "encryption": "3des"}, tls.InvalidArgument, "legacy=True is short for"),
    ({"legacy": True, "mac_hash": "sha256"}, tls.InvalidArgument, "legacy=True is short for"),
    ({"ca_friendly_names": ["one"]}, tls.InvalidArgument, "has 1 names for 2 CA certificates"),
    ({"ca_friendly_names": "ab"}, TypeError, "one per CA certificate"),
    ({"ca_friendly_names": ["a", 5]}, TypeError, "a CA friendly name must be str, bytes"),
    ({"ca_friendly_names": ["a", "b\0c"]}, ValueError, "must not contain NUL bytes"),
])
def test_create_option_errors(pki: Pki, options: dict[str, object], error: type[Exception],
                              message: str) -> None:
    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    with pytest.raises(error, match=re.escape(message)) as info:
        tls.create_pkcs12(source.private_key, source.certificate, source.ca_certificates,
                          "pw", **options)  # type: ignore[arg-type]
    if error is tls.InvalidArgument:
        assert isinstance(info.value, (tightbind.TlsError, ValueError))


def test_create_non_ascii_and_non_utf8_friendly_names(pki: Pki) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12 as cpkcs12

    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    data = tls.create_pkcs12(source.private_key, source.certificate, source.ca_certificates,
                             "pw", "клиент", ca_friendly_names=["中间", b"caf\xe9"])
    again = tls.load_pkcs12(data, "pw")
    assert again.get_friendlyname() == "клиент".encode()
    # Bytes that are not UTF-8 are written one character a byte (Latin-1), as OpenSSL does.
    assert [ca.friendly_name for ca in again.ca_certificates] == ["中间", "café"]
    theirs = cpkcs12.load_pkcs12(data, b"pw")
    assert [c.friendly_name for c in theirs.additional_certs] == ["中间".encode(), b"caf\xc3\xa9"]
    # A friendlyName is a BMPString: nothing past U+FFFF, and valid Unicode only.
    for name in ("key 🔑", "lone \ud800"):
        with pytest.raises(tls.InvalidArgument, match=r"U\+1F511|not valid Unicode"):
            tls.create_pkcs12(source.private_key, source.certificate, (), "pw", name)
        with pytest.raises(tls.InvalidArgument):
            tls.create_pkcs12(source.private_key, source.certificate, source.ca_certificates,
                              "pw", ca_friendly_names=[name, None])


def test_friendly_names_as_windows_and_openssl_write_them(pki: Pki) -> None:
    # OpenSSL 3.0's own reader drops a name whose last character takes three UTF-8 bytes;
    # tightbind reads the BMPString itself.
    made = pki.openssl("pkcs12", "-export", "-in", "ec_leaf.pem", "-inkey", "ec.key",
                       "-name", "中间", "-passout", "pass:pw")
    assert tls.load_pkcs12(made, "pw").get_friendlyname() == "中间".encode()
    # Characters past U+FFFF as UTF-16 surrogate pairs (as Windows writes them), through
    # the C writer directly (create_pkcs12 refuses them: cryptography's reader does).
    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    options = tls_pkcs12.p12_options("aes-256-cbc", 1, "sha256", 1, parts=2,
                                     empty_password=False)
    data = tls_pkcs12.write_pkcs12(source.private_key, source.certificate,
                                   "🔑 κλειδί".encode(), (), [], c_password("pw"), options)
    assert tls.load_pkcs12(data, "pw").get_friendlyname() == "🔑 κλειδί".encode()


# ------------------------------------------------------------------ non-ASCII passwords
# A password is text: PKCS#12 MACs and PKCS#12 encryption read it as BMPString, PBES2
# (AES) encryption takes its bytes, which the openssl command writes as they come in
# argv: UTF-8 in a UTF-8 locale, Latin-1 in a Latin-1 one.  Every script, every way of
# making the file and every way of passing the password must open it, and a wrong
# password must be a WrongPassword, never a DecodeError.

SCRIPTS = ["pässwörd", "пароль", "κωδικός", "密码", "كلمة السر", "🔑 ключ"]


def encodings_of(password: str) -> dict[str, bytes]:
    forms = {"utf-8": password.encode("utf-8")}
    try:
        forms["latin-1"] = password.encode("latin-1")
    except UnicodeEncodeError:
        pass
    return forms


def openssl_bytes(pki: Pki, *args: bytes | str) -> bytes:
    return subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=pki.dir,
                          timeout=60).stdout


FAMILY = [(script, kind, made) for script in SCRIPTS for kind in ("aes", "legacy")
          for made in encodings_of(script)]


@pytest.mark.parametrize("script, kind, made", FAMILY)
def test_non_ascii_password_family(pki: Pki, script: str, kind: str, made: str) -> None:
    password = encodings_of(script)[made]
    legacy = ["-legacy"] if kind == "legacy" else []
    data = openssl_bytes(pki, "pkcs12", "-export", "-in", "ec_leaf.pem", "-inkey", "ec.key",
                         "-passout", b"pass:" + password, *legacy)
    expected = pki.files["ec_leaf.pem"].read_text()
    for given in [script, *encodings_of(script).values()]:
        p12 = tls.load_pkcs12(data, given)
        assert p12.certificate is not None and p12.certificate.pem == expected, given
        assert p12.private_key is not None
    wrong = script + "x"
    for given in [wrong, *encodings_of(wrong).values(), script[:-1], "password"]:
        with pytest.raises(tls.WrongPassword, match="wrong password"):
            tls.load_pkcs12(data, given)


@pytest.mark.parametrize("script, scheme, made",
                         [(s, scheme, made) for s in SCRIPTS[:4]
                          for scheme in ("-v2 aes-256-cbc", "-v1 PBE-SHA1-3DES")
                          for made in encodings_of(s)])
def test_non_ascii_key_password_family(pki: Pki, script: str, scheme: str, made: str) -> None:
    password = encodings_of(script)[made]
    encrypted = openssl_bytes(pki, "pkcs8", "-topk8", "-in", "ec.key", *scheme.split(),
                              "-passout", b"pass:" + password)
    key = tls.load_privatekey(tls.FILETYPE_PEM, pki.files["ec.key"].read_bytes())
    for given in [script, *encodings_of(script).values()]:
        assert tls.load_privatekey(tls.FILETYPE_PEM, encrypted, given) == key, given
    for given in [script + "x", (script + "x").encode()]:
        with pytest.raises(tls.WrongPassword):
            tls.load_privatekey(tls.FILETYPE_PEM, encrypted, given)


def test_password_forms() -> None:
    assert password_forms(None) == ([None], [])
    assert password_forms("plain") == ([b"plain"], []) == password_forms(b"plain")
    assert password_forms("pä") == ([b"p\xc3\xa4", b"p\xe4"], [b"p\xc3\x83\xc2\xa4"])
    assert password_forms(b"p\xe4") == ([b"p\xe4", b"p\xc3\xa4"], [b"p\xc3\x83\xc2\xa4"])
    assert password_forms("密") == (["密".encode()], ["密".encode().decode("latin-1").encode()])


def test_password_that_is_not_unicode_text(pki: Pki) -> None:
    with pytest.raises(tls.InvalidArgument, match="not valid Unicode"):
        tls.load_pkcs12(p12_bytes(pki, "aes"), "bad \udc80 surrogate")


def test_password_over_the_size_limit(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real limit is 2 GiB - 1; a smaller one shows every password path checks it.
    from tightbind.tls import _native

    key = tls.load_privatekey(tls.FILETYPE_PEM, pki.files["ec.key"].read_bytes())
    monkeypatch.setattr(_native, "MAX_INPUT", 8)
    calls = [lambda: tls.load_pkcs12(b"\x30\x00", "x" * 9),
             lambda: tls.load_privatekey(tls.FILETYPE_PEM, b"", "x" * 9),
             lambda: tls.dump_privatekey(tls.FILETYPE_PEM, key, "aes-256-cbc", "x" * 9),
             lambda: tls.create_pkcs12(key, None, passphrase=b"x" * 9)]
    for call in calls:
        with pytest.raises(tls.InputTooLarge, match=r"passphrase \(9 bytes\)"):
            call()
    with pytest.raises(tls.NotPkcs12):
        tls.load_pkcs12(b"\x30\x00", "x" * 8)


# ------------------------------------------------------------------ keys


def test_load_privatekey_encrypted_and_plain(pki: Pki) -> None:
    key = tls.load_privatekey(tls.FILETYPE_PEM, pki.files["leaf.key"].read_bytes())
    encrypted = tls.dump_privatekey(tls.FILETYPE_PEM, key, "aes-256-cbc", "pw")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert pki.openssl("pkey", "-passin", "pass:pw", input=encrypted) == \
        pki.files["leaf.key"].read_bytes()
    assert tls.load_privatekey(tls.FILETYPE_PEM, encrypted, "pw") == key
    with pytest.raises(tls.PasswordRequired, match="password"):
        tls.load_privatekey(tls.FILETYPE_PEM, encrypted)
    with pytest.raises(tls.WrongPassword, match="password"):
        tls.load_privatekey(tls.FILETYPE_PEM, encrypted, "wrong")
    der = tls.dump_privatekey(tls.FILETYPE_ASN1, key, "aes-128-cbc", b"pw")
    assert tls.load_privatekey(tls.FILETYPE_ASN1, der, b"pw") == key
    plain_der = tls.dump_privatekey(tls.FILETYPE_ASN1, key)
    assert tls.load_privatekey(tls.FILETYPE_ASN1, plain_der) == key


def test_load_traditional_rsa_key(pki: Pki) -> None:
    traditional = pki.openssl("pkey", "-in", "leaf.key", "-traditional")
    assert traditional.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    key = tls.load_privatekey(tls.FILETYPE_PEM, traditional)
    assert tls.dump_privatekey(tls.FILETYPE_PEM, key) == pki.files["leaf.key"].read_bytes()


def test_key_errors(pki: Pki) -> None:
    key = tls.load_privatekey(tls.FILETYPE_PEM, pki.files["ec.key"].read_bytes())
    with pytest.raises(tls.DecodeError):
        tls.load_privatekey(tls.FILETYPE_PEM, b"-----BEGIN PRIVATE KEY-----\nAAAA\n")
    with pytest.raises(tls.DecodeError):
        tls.load_privatekey(tls.FILETYPE_ASN1, b"")
    with pytest.raises(ValueError, match="FILETYPE"):
        tls.load_privatekey(3, b"")
    with pytest.raises(tls.TlsError, match="invalid"):
        tls.dump_privatekey(tls.FILETYPE_PEM, key, "no-such-cipher", "pw")
    with pytest.raises(TypeError):
        tls.dump_privatekey(tls.FILETYPE_PEM, key, "aes-256-cbc")


# ------------------------------------------------------------------ cryptography interop


def _cryptography_keys() -> list[tuple[str, object]]:
    from cryptography.hazmat.primitives.asymmetric import (
        dsa,
        ec,
        ed448,
        ed25519,
        rsa,
        x448,
        x25519,
    )

    return [("rsa", lambda: rsa.generate_private_key(65537, 2048)),
            ("dsa", lambda: dsa.generate_private_key(1024)),
            ("ec-p256", lambda: ec.generate_private_key(ec.SECP256R1())),
            ("ec-p384", lambda: ec.generate_private_key(ec.SECP384R1())),
            ("ed25519", ed25519.Ed25519PrivateKey.generate),
            ("ed448", ed448.Ed448PrivateKey.generate),
            ("x25519", x25519.X25519PrivateKey.generate),
            ("x448", x448.X448PrivateKey.generate)]


@pytest.mark.parametrize(("kind", "make"), _cryptography_keys(), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_keys_to_and_from_cryptography(kind: str, make) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization as ser

    theirs = make()
    pkcs8 = theirs.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    spki = theirs.public_key().public_bytes(ser.Encoding.PEM,
                                            ser.PublicFormat.SubjectPublicKeyInfo)
    key = tls.PKey.from_cryptography(theirs)
    assert type(key) is tls.PKey and key.public_pem() == spki
    back = key.to_cryptography()
    assert type(back) is type(theirs)
    assert back.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8,
                              ser.NoEncryption()) == pkcs8
    # The public half alone: a public-only key, and back to cryptography's public class.
    public = tls.PKey.from_cryptography(theirs.public_key())
    assert public.public_pem() == spki
    again = public.to_cryptography()
    assert type(again) is type(theirs.public_key()) and again == theirs.public_key()


def test_loaded_key_to_cryptography_equals_its_reading(pki: Pki) -> None:
    from cryptography.hazmat.primitives import serialization as ser

    for name in ("leaf.key", "ec.key"):
        pem = pki.files[name].read_bytes()
        key = tls.load_privatekey(tls.FILETYPE_PEM, pem)
        reference = ser.load_pem_private_key(pem, None)
        assert key.to_cryptography().private_numbers() == reference.private_numbers()


def test_key_from_cryptography_refuses_other_objects(pki: Pki) -> None:
    key = tls.load_privatekey(tls.FILETYPE_PEM, pki.files["leaf.key"].read_bytes())
    for value in (key, pki.files["leaf.key"].read_bytes(), None, 42):
        with pytest.raises(TypeError, match="Unsupported key type"):
            tls.PKey.from_cryptography(value)


def test_certificates_are_read_lazily_and_matched_without_key_ids(pki: Pki) -> None:
    source = tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
    # Parsed for reading: the full X509 is made only when a call needs it.
    assert source.certificate is not None and source.certificate._full is None
    assert all(ca._full is None for ca in source.ca_certificates)
    # No localKeyID anywhere (the leaf written as a CA certificate): the key is matched
    # to its certificate by the public key, which takes the full X509 for a moment.
    data = tls.create_pkcs12(source.private_key, None,
                             [*source.ca_certificates, source.certificate], "pw")
    again = tls.load_pkcs12(data, "pw")
    assert again.certificate == source.certificate
    assert again.ca_certificates == source.ca_certificates
    assert again.certificate._full is None


# ------------------------------------------------------------------ PBES2 key derivation
# tls_kdf.c derives PBKDF2-HMAC-SHA-256 keys itself for AES-CBC files; OpenSSL writes
# them (the openssl command, create_pkcs12), so every load here is the two derivations
# agreeing.


@pytest.mark.parametrize(("keypbe", "certpbe", "iterations"), [
    ("AES-128-CBC", "AES-192-CBC", "1"), ("AES-192-CBC", "AES-256-CBC", "3"),
    ("AES-256-CBC", "AES-128-CBC", "2049")])
def test_aes_files_of_every_key_size(pki: Pki, keypbe: str, certpbe: str,
                                     iterations: str) -> None:
    data = pki.openssl("pkcs12", "-export", "-in", "ec_leaf.pem", "-inkey", "ec.key",
                       "-certfile", "inter.pem", "-keypbe", keypbe, "-certpbe", certpbe,
                       "-iter", iterations, "-passout", "pass:" + "long password " * 8)
    loaded = tls.load_pkcs12(data, "long password " * 8)  # past one SHA-256 block
    reference = tls.load_pkcs12(p12_bytes(pki, "empty"))
    assert loaded.private_key == reference.private_key
    assert loaded.certificate == reference.certificate
    with pytest.raises(tls.WrongPassword):
        tls.load_pkcs12(data, "long password " * 7)


@hypothesis.settings(max_examples=25, deadline=None)
@hypothesis.given(password=st.text(min_size=0, max_size=80).filter(lambda text: "\0" not in text),
       iterations=st.integers(min_value=1, max_value=300))
def test_pbes2_derivation_agrees_with_openssl(pki_source: tls.PKCS12, password: str,
                                              iterations: int) -> None:
    data = tls.create_pkcs12(pki_source.private_key, pki_source.certificate,
                             pki_source.ca_certificates, password, iterations=iterations)
    again = tls.load_pkcs12(data, password)
    assert (again.private_key, again.certificate, again.ca_certificates) == \
        (pki_source.private_key, pki_source.certificate, pki_source.ca_certificates)


@pytest.fixture(scope="module")
def pki_source(pki: Pki) -> tls.PKCS12:
    return tls.load_pkcs12(p12_bytes(pki, "aes"), PASSWORD)
