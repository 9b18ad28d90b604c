#include "coroner/console/console_lines.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace coroner::console {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

std::string_view skip_one_space(std::string_view s) { return s.starts_with(' ') ? s.substr(1) : s; }

// "<4>": the level printk and /dev/kmsg readers put first.
bool strip_level(std::string_view& s) {
  if (s.size() < 3 || s[0] != '<') return false;
  size_t i = 1;
  while (i < s.size() && i < 5 && digit(s[i])) ++i;
  if (i == 1 || i >= s.size() || s[i] != '>') return false;
  s.remove_prefix(i + 1);
  return true;
}

// "[  110.420000]" (printk's time), "[Thu Dec  3 03:20:48 2026]" (dmesg -T).
bool strip_time(std::string_view& s) {
  if (!s.starts_with('[')) return false;
  size_t close = s.find(']');
  if (close == std::string_view::npos || close > 40) return false;
  std::string_view inside = s.substr(1, close - 1);
  bool seconds = !inside.empty() && inside.find_first_not_of(" 0123456789.") == std::string_view::npos &&
                 inside.find('.') != std::string_view::npos;
  bool date = inside.size() >= 20 && std::isupper(static_cast<unsigned char>(inside[0])) && inside[3] == ' ' &&
              inside.find(':') != std::string_view::npos;
  if (!seconds && !date) return false;
  s = skip_one_space(s.substr(close + 1));
  return true;
}

// "[    C0]", "[ T1234]": CONFIG_PRINTK_CALLER's caller, alone or right after the time.
bool strip_caller(std::string_view& s, ConsoleLine& line) {
  if (!s.starts_with('[')) return false;
  size_t close = s.find(']');
  if (close == std::string_view::npos || close > 16) return false;
  std::string_view inside = s.substr(1, close - 1);
  while (inside.starts_with(' ')) inside.remove_prefix(1);
  if (inside.size() < 2 || (inside[0] != 'C' && inside[0] != 'T')) return false;
  unsigned n = 0;
  auto [end, ec] = std::from_chars(inside.data() + 1, inside.data() + inside.size(), n);
  if (ec != std::errc() || end != inside.data() + inside.size()) return false;
  (inside[0] == 'C' ? line.cpu : line.task) = n;
  s = skip_one_space(s.substr(close + 1));
  return true;
}

// "kern  :warn  : " (dmesg -x).
bool strip_facility(std::string_view& s) {
  static constexpr std::array<std::string_view, 1> kFacilities = {"kern"};
  for (std::string_view f : kFacilities) {
    if (!s.starts_with(f)) continue;
    size_t first = s.find(':'), second = first == std::string_view::npos ? first : s.find(':', first + 1);
    if (second == std::string_view::npos || second > 16 || s.substr(f.size(), first - f.size()).find_first_not_of(' ') != std::string_view::npos) {
      return false;
    }
    s = skip_one_space(s.substr(second + 1));
    return true;
  }
  return false;
}

bool month_start(std::string_view s) {
  return s.size() > 4 && std::isupper(static_cast<unsigned char>(s[0])) && std::islower(static_cast<unsigned char>(s[1])) &&
         std::islower(static_cast<unsigned char>(s[2])) && s[3] == ' ';
}

bool iso_start(std::string_view s) {
  return s.size() > 19 && digit(s[0]) && digit(s[1]) && digit(s[2]) && digit(s[3]) && s[4] == '-' && s[7] == '-' && s[10] == 'T';
}

// "Dec  3 03:20:48 host kernel: " (syslog), "Dec 03 03:20:48 host kernel: " (journalctl),
// "2026-12-03T03:20:48.123456+00:00 host kernel: " (rsyslog's ISO time); dmesg's
// "--time-format iso" has the time and no host.
bool strip_syslog(std::string_view& s) {
  if (!month_start(s) && !iso_start(s)) return false;
  size_t kernel = s.find(" kernel: ");
  if (kernel != std::string_view::npos && kernel < 96) {
    s = skip_one_space(s.substr(kernel + 8));
    return true;
  }
  if (iso_start(s)) {
    size_t space = s.find(' ');
    if (space == std::string_view::npos || space > 40) return false;
    s = s.substr(space + 1);
    return true;
  }
  return false;
}

}  // namespace

bool ConsoleLine::same_context(const ConsoleLine& other) const {
  if ((!cpu && !task) || (!other.cpu && !other.task)) return true;
  return cpu == other.cpu && task == other.task;
}

std::string_view strip_prefixes(std::string_view s, ConsoleLine& line) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  for (int round = 0; round < 6; ++round) {
    if (!(strip_syslog(s) || strip_facility(s) || strip_level(s) || strip_time(s) || strip_caller(s, line))) break;
  }
  return s;
}

std::vector<ConsoleLine> console_lines(std::string_view text) {
  // printk never prints a line longer than 1 KiB; a longer one is not the kernel's, and the rules'
  // and formats' regexes must not be handed megabytes.
  constexpr size_t kLongestLine = 4096;
  std::vector<ConsoleLine> out;
  size_t number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ConsoleLine line;
    line.number = ++number;
    line.text = std::string(strip_prefixes(text.substr(start, std::min(end - start, kLongestLine)), line));
    out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

}  // namespace coroner::console
