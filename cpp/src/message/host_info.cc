#include "message/host_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

namespace isoqube::detail {
namespace {

std::string machine_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

std::string process_name() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// .NET's Environment.OSVersion on Linux: "Unix" and the kernel release's
// leading numbers ("6.1.0-18-amd64" gives "Unix 6.1.0").
std::string os_version() {
  utsname names{};
  if (uname(&names) != 0) return "Unix";
  std::string release = names.release;
  const std::size_t end = release.find_first_not_of("0123456789.");
  if (end != std::string::npos) release.resize(end);
  while (!release.empty() && release.back() == '.') release.pop_back();
  return release.empty() ? "Unix" : "Unix " + release;
}

std::string framework_version() {
#if defined(__GLIBCXX__)
  return "libstdc++ " + std::to_string(_GLIBCXX_RELEASE);
#elif defined(_LIBCPP_VERSION)
  return "libc++ " + std::to_string(_LIBCPP_VERSION);
#else
  return "C++";
#endif
}

}  // namespace

const HostInfo& host_info() {
  static const HostInfo info{machine_name(), process_name(),
                             static_cast<int>(getpid()), os_version()};
  return info;
}

const Json& host_json() {
  static const Json host = [] {
    const HostInfo& info = host_info();
    return Json{{"machineName", info.machine_name},
                {"processName", info.process_name},
                {"processId", info.process_id},
                {"assembly", "isoqube"},
                {"assemblyVersion", ISOQUBE_VERSION},
                {"frameworkVersion", framework_version()},
                {"massTransitVersion", nullptr},
                {"operatingSystemVersion", info.os_version}};
  }();
  return host;
}

}  // namespace isoqube::detail
