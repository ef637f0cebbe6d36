#include "io/diagnostics_columns.hpp"

#include <cmath>
#include <stdexcept>

#include "io/h5.hpp"

namespace wgflow {

namespace {

struct Column {
  const char* name;
  double DiagnosticsRow::*field;
  bool optional;  ///< f-divergence runs only
};
constexpr Column k_columns[] = {{"time", &DiagnosticsRow::time, false},
                                {"dt", &DiagnosticsRow::dt, false},
                                {"mass", &DiagnosticsRow::mass, false},
                                {"energy", &DiagnosticsRow::energy, false},
                                {"dissipation", &DiagnosticsRow::dissipation, false},
                                {"min", &DiagnosticsRow::min, false},
                                {"max", &DiagnosticsRow::max, false},
                                {"l1_to_target", &DiagnosticsRow::l1_to_target, true},
                                {"w2_to_target", &DiagnosticsRow::w2_to_target, true},
                                {"linear_iterations", &DiagnosticsRow::linear_iterations, true}};

const Column& column_named(const std::string& name) {
  for (const Column& c : k_columns)
    if (name == c.name) return c;
  throw std::logic_error("no diagnostics column '" + name + "'");
}

}  // namespace

std::vector<std::string> diagnostics_columns(const DiagnosticsRow& first_row) {
  std::vector<std::string> names;
  for (const Column& c : k_columns)
    if (!c.optional || !std::isnan(first_row.*c.field)) names.push_back(c.name);
  return names;
}

void write_diagnostics_rows(hid_t file, const DiagnosticsHistory& history, std::size_t first, std::size_t end,
                            const std::vector<std::string>& columns) {
  if (first > end || end > history.size() || first < history.first)
    throw std::logic_error("write_diagnostics_rows: rows out of range");
  std::vector<std::vector<double>> values(columns.size(), std::vector<double>(end - first));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Column& column = column_named(columns[c]);
    for (std::size_t i = first; i < end; ++i) values[c][i - first] = history.row(i).*column.field;
  }
  write_diagnostics_columns(file, values, columns);
}

void write_diagnostics_columns(hid_t file, const std::vector<std::vector<double>>& values,
                               const std::vector<std::string>& columns) {
  h5::Group group = h5::create_group(file, "diagnostics");
  for (std::size_t c = 0; c < columns.size(); ++c)
    h5::write_dataset(group.id(), columns[c], {values[c].size()}, values[c].data());
}

std::size_t append_diagnostics_columns(hid_t file, const std::vector<std::string>& columns,
                                       std::vector<std::vector<double>>& values) {
  values.resize(columns.size());
  std::size_t rows = 0;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const std::vector<double> column = h5::read_dataset(file, "/diagnostics/" + columns[c]);
    if (c == 0) rows = column.size();
    if (column.size() != rows) throw std::runtime_error("/diagnostics/" + columns[c] + " has a different length");
    values[c].insert(values[c].end(), column.begin(), column.end());
  }
  return rows;
}

void write_diagnostics_view(hid_t file, const std::vector<DiagnosticsPiece>& pieces,
                            const std::vector<std::string>& columns) {
  h5::Group group = h5::create_group(file, "diagnostics");
  for (const std::string& name : columns) {
    std::vector<h5::VirtualPiece> sources;
    for (const DiagnosticsPiece& p : pieces) sources.push_back({p.file, "/diagnostics/" + name, p.rows});
    h5::write_virtual_1d(group.id(), name, sources);
  }
}

}  // namespace wgflow
