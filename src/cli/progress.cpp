#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace coroner::cli {
namespace {
constexpr auto kRepaintEvery = std::chrono::milliseconds(250);

// One second, unless CORONER_PROGRESS_AFTER_MS says otherwise (the tests show it at once).
std::chrono::milliseconds quiet_for() {
  const char* env = std::getenv("CORONER_PROGRESS_AFTER_MS");
  if (env && *env) {
    char* end = nullptr;
    long ms = std::strtol(env, &end, 10);
    if (end && *end == 0 && ms >= 0) return std::chrono::milliseconds(ms);
  }
  return std::chrono::seconds(1);
}
}  // namespace

bool Progress::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(bool enabled) : enabled_(enabled) {
  if (enabled_) painter_ = std::thread([this] { run(); });
}

Progress::~Progress() {
  if (!enabled_) return;
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wake_.notify_one();
  painter_.join();
}

void Progress::step(std::string_view what) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  step_ = what;
  changed_ = true;
}

void Progress::run() {
  std::unique_lock lock(mutex_);
  if (wake_.wait_for(lock, quiet_for(), [this] { return done_; })) return;
  size_t shown = 0;
  while (!done_) {
    if (changed_ || shown == 0) {
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
      std::string line = "coroner: " + step_ + "... (" + std::to_string(seconds) + " s)";
      std::fprintf(stderr, "\r%-*s", static_cast<int>(std::max(shown, line.size())), line.c_str());
      std::fflush(stderr);
      shown = std::max(shown, line.size());
      changed_ = false;
    }
    wake_.wait_for(lock, kRepaintEvery, [this] { return done_ || changed_; });
    changed_ = true;  // the seconds count moves on
  }
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(shown), "");
  std::fflush(stderr);
}

}  // namespace coroner::cli
