#pragma once
// A progress line on stderr for commands that can take more than a second: silent for the first
// second (most runs finish before it), then "coroner: <step>..." rewritten in place as steps
// change, and erased when done. Off when stderr is not a terminal, so logs and pipes stay clean.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace coroner::cli {

class Progress {
 public:
  // `enabled` false: every call is a no-op. The default asks whether stderr is a terminal.
  explicit Progress(bool enabled = stderr_is_terminal());
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void step(std::string_view what);

  static bool stderr_is_terminal();

 private:
  void run();

  bool enabled_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string step_;
  bool done_ = false, changed_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::thread painter_;
};

}  // namespace coroner::cli
