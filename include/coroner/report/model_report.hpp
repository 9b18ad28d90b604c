#pragma once
// The analysis summary of a kernel described by an OS model (illumos, FreeBSD).
#include <nlohmann/json.hpp>
#include <string>

#include "coroner/analysis/model_facts.hpp"
#include "coroner/os/model/model_threads.hpp"
#include "coroner/report/analysis_report.hpp"

namespace coroner::report {


// The summary analyze reports for a kernel described by an OS model.
AnalysisSummary model_summary(const os_model::OsModel& model, const analysis::ModelAnalysis& a, const std::string& dump);

}  // namespace coroner::report
