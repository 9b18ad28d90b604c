#pragma once
// Errors as values: every fallible read returns Result<T>, whose error says what failed and where.
#include <string>
#include <utility>
#include <variant>

namespace coroner {

enum class ErrorKind {
  failed,       // malformed input, I/O, or anything else that went wrong
  not_in_dump,  // the address is valid but its bytes are not in the dump (filtered, hole, truncated)
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::failed;
};

inline Error make_error(std::string message, ErrorKind kind = ErrorKind::failed) {
  return Error{std::move(message), kind};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }
  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace coroner
