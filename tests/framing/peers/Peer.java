// The Java peer of tests/framing/test_interop.py, built against Debian's protobuf-java.
//
//   java Peer write   text-format messages (one per line) on stdin -> a varint-delimited
//                     stream on stdout, framed by writeDelimitedTo
//   java Peer read    a varint-delimited stream on stdin, parsed by parseDelimitedFrom
//                     -> one text-format line per message
import com.google.protobuf.TextFormat;
import interop.InteropProto.Sample;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;

public final class Peer {
  public static void main(String[] args) throws Exception {
    String mode = args.length == 1 ? args[0] : "";
    if (mode.equals("write")) {
      BufferedReader in = new BufferedReader(
          new InputStreamReader(new FileInputStream(FileDescriptor.in), StandardCharsets.UTF_8));
      OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
      String line;
      while ((line = in.readLine()) != null) {
        Sample.Builder builder = Sample.newBuilder();
        TextFormat.merge(line, builder);
        builder.build().writeDelimitedTo(out);
      }
      out.flush();
    } else if (mode.equals("read")) {
      InputStream in = new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16);
      Writer out = new BufferedWriter(
          new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8));
      TextFormat.Printer printer = TextFormat.printer();
      Sample message;
      while ((message = Sample.parseDelimitedFrom(in)) != null) {
        out.write(printer.shortDebugString(message));
        out.write('\n');
      }
      out.flush();
    } else {
      System.err.println("usage: java Peer write|read");
      System.exit(1);
    }
  }
}
