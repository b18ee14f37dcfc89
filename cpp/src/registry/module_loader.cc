#include <dlfcn.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "isoqube/errors.h"
#include "isoqube/registry.h"
#include "registry/static_registry.h"

namespace isoqube {
namespace {

struct LoadedModules {
  // One load at a time, so that two threads loading the same file cannot
  // both see it as new.
  std::mutex mutex;
  std::map<std::string, void*> handles;  // by real path; never closed
};

LoadedModules& loaded_modules() {
  static auto* instance = new LoadedModules();
  return *instance;
}

std::string describe(const std::string& path, const std::string& real) {
  return real.empty() || real == path ? "'" + path + "'"
                                      : "'" + path + "' (" + real + ")";
}

// The canonical path is the module's identity, so "./m.so" and "/abs/m.so"
// are one module, loaded once.
std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  if (::realpath(path.c_str(), buffer) == nullptr) {
    throw ModuleError("cannot load module '" + path +
                      "': " + std::strerror(errno));
  }
  return buffer;
}

std::string dl_error() {
  const char* text = ::dlerror();
  return text != nullptr ? text : "unknown dlopen error";
}

// Called with the loader's mutex held. Modules are never unloaded: their
// handlers' code must stay mapped for as long as any registry holds them.
void open_module(const std::string& path, const std::string& real,
                 LoadedModules& modules) {
  void* handle = nullptr;
  {
    detail::LoadingOrigin origin(real);
    ::dlerror();
    // RTLD_NOW reports missing symbols here instead of at first call, inside
    // a worker; RTLD_LOCAL keeps one module's symbols from another's.
    handle = ::dlopen(real.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  if (handle == nullptr) {
    throw ModuleError("cannot load module " + describe(path, real) + ": " +
                      dl_error());
  }
  if (detail::static_registrations(real).empty()) {
    // Nothing of ours runs from it, so unloading is safe. A library that
    // was already loaded (for instance the core itself) is only unreferenced.
    ::dlclose(handle);
    throw ModuleError("module " + describe(path, real) +
                      " registers no topics or consumers (is it built with "
                      "ISOQUBE_TOPIC / ISOQUBE_CONSUMER, and not already "
                      "linked into the program?)");
  }
  modules.handles.emplace(real, handle);
}

}  // namespace

void load_module(const std::string& path, Registry& registry) {
  const std::string real = real_path(path);
  LoadedModules& modules = loaded_modules();
  {
    std::lock_guard<std::mutex> lock(modules.mutex);
    if (modules.handles.count(real) == 0) open_module(path, real, modules);
  }
  // A second load (same or another registry) replays the recorded
  // registrations; the library's initialisers do not run again.
  registry.add_static(real);
}

}  // namespace isoqube
