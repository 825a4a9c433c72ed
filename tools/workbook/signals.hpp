#pragma once
// What a signal that ended the tests means for the learner's code.

#include <string>

namespace workbook {

// "SIGSEGV".
[[nodiscard]] std::string signal_name(int signal);
// "SIGSEGV (Segmentation fault): invalid memory access: ..."
[[nodiscard]] std::string signal_summary(int signal);

}  // namespace workbook
