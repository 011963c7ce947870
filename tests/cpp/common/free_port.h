#pragma once
// A TCP port on 127.0.0.1 for a test's job.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace fcnlab {
namespace testing {

/// A port nobody listens on now (the kernel's choice for a bound socket).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

} // namespace testing
} // namespace fcnlab
