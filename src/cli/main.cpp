#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"coroner: post-mortem analyzer for kernel crash dumps"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "coroner 0.1.0");
  coroner::cli::register_info(app);
  coroner::cli::register_log(app);
  coroner::cli::register_struct(app);
  coroner::cli::register_print(app);
  coroner::cli::register_list(app);
  coroner::cli::register_ps(app);
  coroner::cli::register_bt(app);
  coroner::cli::register_mod(app);
  coroner::cli::register_whatthread(app);
  coroner::cli::register_search(app);
  coroner::cli::register_whatis(app);
  coroner::cli::register_kmem(app);
  coroner::cli::register_scan(app);
  coroner::cli::register_dis(app);
  coroner::cli::register_fault(app);
  coroner::cli::register_analyze(app);
  coroner::cli::register_rules(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
