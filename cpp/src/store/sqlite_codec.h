// Conversions between SQLite rows and the store's records, by the column
// lists of sqlite_schema.h. Internal.
//
// The readers throw StoreError naming the record and column when a stored
// value cannot be read back (JSON that does not parse, an unknown status
// word): a file edited by hand, or written by something else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "isoqube/configuration.h"
#include "isoqube/registry.h"
#include "isoqube/run.h"
#include "isoqube/store.h"
#include "store/sqlite_connection.h"

namespace isoqube::detail {

// A step's spec beside its name and topic columns: {"after", "retry",
// "payload"}.
std::string encode_spec(const StepSpec& spec);

// Binds kInsertStep's parameters.
void bind_step_row(Statement& statement, const std::string& run_id, int index,
                   const Step& step);
void bind_run_row(Statement& statement, const Run& run);
// Binds kUpdateStep's parameters: the expected state, then what `t` sets;
// `output` is t.output as encode_output() wrote it.
void bind_step_update(Statement& statement, std::string_view run_id,
                      StepStatus old_status, int old_attempts,
                      const StepTransition& t,
                      const std::optional<std::string>& output);
// A step output as the output column holds it, and the value a read of
// that column returns (JSON text does not keep every distinction of a
// Json value: NaN, integer signedness).
std::string encode_output(const Json& output);
Json decode_output(const std::string& text);
void bind_topic_row(Statement& statement, const Topic& topic);

// A row of kSelectRun / kSelectRunsPage, without its steps.
Run read_run_row(const Statement& row);
// A row of kSelectSteps.
Step read_step_row(const Statement& row, const std::string& run_id);
// A row of kSelectConfiguration / kSelectConfigurations.
Configuration read_configuration_row(const Statement& row);
Event read_event_row(const Statement& row);
Topic read_topic_row(const Statement& row);

}  // namespace isoqube::detail
