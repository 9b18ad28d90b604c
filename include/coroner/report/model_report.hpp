#pragma once
// ps, bt and whatthread for kernels described by an OS model (illumos, FreeBSD), as text in the
// style of mdb's ::threadlist / ::findstack / ::whatthread and as JSON (docs/model.schema.md).
#include <nlohmann/json.hpp>
#include <string>

#include "coroner/analysis/model_facts.hpp"
#include "coroner/os/model/model_threads.hpp"
#include "coroner/os/model/model_whatis.hpp"
#include "coroner/report/analysis_report.hpp"

namespace coroner::report {

std::string model_ps_text(const os_model::ModelThreads& threads);
nlohmann::ordered_json model_ps_json(const os_model::OsModel& model, const os_model::ModelThreads& threads);
std::string model_bt_text(const Thread& thread, const Backtrace& bt, bool panicking);
nlohmann::ordered_json model_bt_json(const Thread& thread, const Backtrace& bt, bool panicking);
std::string model_whatthread_text(const std::vector<StackReference>& refs);
nlohmann::ordered_json model_whatthread_json(uint64_t address, uint64_t size, const std::string& what,
                                             const std::vector<StackReference>& refs);
std::string model_whatis_text(const Kernel& kernel, const os_model::ModelThreads& threads, const os_model::ModelWhatIs& w);
nlohmann::ordered_json model_whatis_json(const Kernel& kernel, const os_model::ModelThreads& threads,
                                         const os_model::ModelWhatIs& w);

// The summary analyze reports for a kernel described by an OS model.
AnalysisSummary model_summary(const os_model::OsModel& model, const analysis::ModelAnalysis& a, const std::string& dump);

}  // namespace coroner::report
