#pragma once
// libdwarf over the mapped sections (its object-access interface: no copy of the 174 MB
// .debug_info), for what coroner does not decode itself: line programs and call frames. Opened on
// first use, so that a command that needs neither never pays for libdwarf's unit contexts.
#include <memory>

#include "coroner/debuginfo/dwarf_sections.hpp"

namespace coroner {

class LibdwarfSession {
 public:
  explicit LibdwarfSession(const DwarfSections& sections);
  ~LibdwarfSession();
  LibdwarfSession(const LibdwarfSession&) = delete;
  LibdwarfSession& operator=(const LibdwarfSession&) = delete;

  // libdwarf's Dwarf_Debug, opened on the first call; null when libdwarf cannot read the file.
  void* handle() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coroner
