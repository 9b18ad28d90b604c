#include "coroner/rules/function_name.hpp"

namespace coroner::rules {

std::string_view function_base_name(std::string_view name) {
  size_t dot = name.find('.');
  return dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace coroner::rules
