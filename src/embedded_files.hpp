#pragma once
// Data files built into the binary by CMake (cmake/EmbedFiles.cmake): the shipped rules and OS
// models, so that coroner needs no data directory at run time.
#include <cstddef>

namespace coroner {

struct EmbeddedFile {
  const char* name;  // relative to the directory it came from
  const char* text;
};

}  // namespace coroner
