#ifdef MOELAB_TEST_WIDGETS
#include <QApplication>
using TestApplication = QApplication;  // the UI suites need widgets
#else
#include <QCoreApplication>
using TestApplication = QCoreApplication;
#endif
#include <QtTest/QtTest>
#include <cstdio>

#include "TestSuite.h"

int main(int argc, char** argv) {
  TestApplication app(argc, argv);
  if (argc < 2 || !moelab::test::registry().count(argv[1])) {
    std::fprintf(stderr, "usage: moelab-tests SUITE [QtTest options]\nsuites:");
    for (auto& [name, f] : moelab::test::registry()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  torch::set_num_threads(2);
  auto suite = moelab::test::registry()[argv[1]]();
  std::vector<char*> args{argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return QTest::qExec(suite.get(), int(args.size()), args.data());
}
