// The C++ peer of tests/framing/test_interop.py, built against Debian's libprotobuf.
//
//   peer write   text-format messages (one per line) on stdin -> a varint-delimited
//                stream on stdout, framed by SerializeDelimitedToOstream
//   peer read    a varint-delimited stream on stdin, parsed by
//                ParseDelimitedFromZeroCopyStream -> one text-format line per message
//
// Exit status 0 on success, 2 on input it cannot parse (with a message on stderr).
#include <iostream>
#include <string>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "interop.pb.h"

namespace pb = google::protobuf;
using tightbind::interop::Sample;

static int write_stream() {
  std::string line;
  long count = 0;
  while (std::getline(std::cin, line)) {
    Sample message;
    if (!pb::TextFormat::ParseFromString(line, &message)) {
      std::cerr << "peer write: line " << count + 1 << " is not a Sample\n";
      return 2;
    }
    if (!pb::util::SerializeDelimitedToOstream(message, &std::cout)) {
      std::cerr << "peer write: SerializeDelimitedToOstream failed\n";
      return 2;
    }
    ++count;
  }
  std::cout.flush();
  return std::cout ? 0 : 2;
}

static int read_stream() {
  pb::io::FileInputStream input(0);
  pb::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  long count = 0;
  for (;;) {
    Sample message;
    bool clean_eof = false;
    if (!pb::util::ParseDelimitedFromZeroCopyStream(&message, &input, &clean_eof)) {
      if (clean_eof) break;
      std::cerr << "peer read: frame " << count + 1 << " is not a delimited Sample\n";
      return 2;
    }
    std::string text;
    printer.PrintToString(message, &text);
    std::cout << text << '\n';
    ++count;
  }
  std::cout.flush();
  return std::cout ? 0 : 2;
}

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::string mode = argc == 2 ? argv[1] : "";
  if (mode == "write") return write_stream();
  if (mode == "read") return read_stream();
  std::cerr << "usage: peer write|read\n";
  return 1;
}
