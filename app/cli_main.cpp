#include "cli/Commands.h"

int main(int argc, char** argv) {
  return moelab::cli::runCli(argc, argv);
}
