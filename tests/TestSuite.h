#pragma once
#include <QObject>
#include <functional>
#include <map>
#include <memory>
#include <string>

// Registry so one executable holds every suite and ctest runs each by name.
namespace moelab::test {
using Factory = std::function<std::unique_ptr<QObject>()>;
inline std::map<std::string, Factory>& registry() {
  static std::map<std::string, Factory> r;
  return r;
}
struct Registrar {
  Registrar(const char* name, Factory f) { registry()[name] = std::move(f); }
};
inline QString dataDir() {
  return QStringLiteral(MOELAB_TEST_DATA_DIR);
}
}  // namespace moelab::test

#define MOELAB_TEST_SUITE(Class) \
  static moelab::test::Registrar Class##_registrar(#Class, [] { return std::make_unique<Class>(); });
