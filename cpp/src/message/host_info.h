// Who this process is, in the words MassTransit uses for it: the envelope's
// `host` block and the MT-Host-* headers of a fault. Internal.
//
// Thread-safety: computed once, then read-only.
#pragma once

#include <string>

#include "isoqube/json.h"

namespace isoqube::detail {

struct HostInfo {
  std::string machine_name;  // gethostname()
  std::string process_name;  // /proc/self/comm: "python3", "isoqube", ...
  int process_id = 0;
  std::string os_version;  // "Unix 6.1.0", as .NET writes OSVersion
};

const HostInfo& host_info();

// The envelope's `host` block with every field MassTransit's HostInfo has:
// machineName, processName, processId, assembly ("isoqube"),
// assemblyVersion (Isoqube's version), frameworkVersion (the C++ library
// this process runs, "libstdc++ 12"), massTransitVersion (null: this is
// not MassTransit) and operatingSystemVersion.
const Json& host_json();

}  // namespace isoqube::detail
