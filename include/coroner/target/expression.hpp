#pragma once
// C-like expressions over the dumped kernel, as in crash's `p` and drgn:
//   name, expr.member, expr->member, expr[i], *expr, &expr, expr + n, expr - n,
//   (struct inode *)0xffff..., container_of(ptr, struct type, member), enumerators, numbers.
// `.` on a pointer and `->` on a struct are accepted (as crash does): there is one meaning.
#include <string_view>

#include "coroner/target/object.hpp"

namespace coroner {

Result<Value> evaluate(TypedMemory& objects, std::string_view expression);

// The address an expression designates: an lvalue's address, or a pointer's or number's value
// ("ffff8b87012148c0", "init_task", "&init_task.tasks", "(struct page *)0x...").
Result<uint64_t> evaluate_address(TypedMemory& objects, std::string_view expression);
// An expression's value as an integer (a number, an enumerator, a pointer's value).
Result<uint64_t> evaluate_integer(TypedMemory& objects, std::string_view expression);
// A value as text: a char array's bytes up to the first NUL, or the string a char * points to (at
// most `limit` bytes).
Result<std::string> value_text(TypedMemory& objects, const Value& value, size_t limit = 1024);
Result<std::string> evaluate_text(TypedMemory& objects, std::string_view expression, size_t limit = 1024);

}  // namespace coroner
