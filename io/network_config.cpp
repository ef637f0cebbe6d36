#include "io/network_config.hpp"

#include <unistd.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "io/expression.hpp"
#include "io/h5.hpp"
#include "io/parameter_flags.hpp"

namespace wgflow {

namespace {

std::string show(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

bool is_file(const std::string& data) { return data.rfind("file:", 0) == 0; }

double cells_of(const RunConfig& c) { return std::pow(static_cast<double>(c.n), c.dim); }

/// Rows of the grid (grids/parallel_for.hpp): x-lines, or 1024-cell blocks in 1D.
double rows_of(const RunConfig& c) {
  return c.dim == 1 ? std::ceil(static_cast<double>(c.n) / 1024.0) : std::pow(static_cast<double>(c.n), c.dim - 1);
}

/// Refuses an S of n columns that would not fit in 60 % of this machine's memory beside the rest.
void check_memory(const RunConfig& c, double n) {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return;
  const double have = static_cast<double>(pages) * static_cast<double>(page_size);
  const double need = NetworkKernel<1>::bytes_for(cells_of(c), rows_of(c), n);
  if (need > 0.6 * have) {
    std::ostringstream s;
    s.precision(3);
    s << "--data: the feature matrix of " << c.n << "^" << c.dim << " cells x " << n << " data points needs "
      << need / (1 << 30) << " GiB, more than 60% of this machine's " << have / (1 << 30)
      << " GiB (use fewer cells or data points)";
    throw ConfigError(s.str());
  }
}

std::vector<double> read_data_column(hid_t file, const std::string& path, const std::string& name) {
  if (!h5::is_dataset(file, name))
    throw ConfigError("--data: file:" + path + " has no dataset " + name + " (it needs /x and /y, n values each)");
  h5::Dataset d = h5::open_dataset(file, name);
  const std::vector<hsize_t> dims = h5::dataset_dims(d.id());
  if (dims.size() != 1 || dims[0] == 0)
    throw ConfigError("--data: " + name + " in file:" + path + " must be a non-empty 1-D dataset");
  std::vector<double> v = h5::read_dataset(d.id());
  for (std::size_t j = 0; j < v.size(); ++j)
    if (!std::isfinite(v[j]))
      throw ConfigError("--data: " + name + "[" + std::to_string(j) + "] in file:" + path + " is " + show(v[j]) +
                        "; the data must be finite");
  return v;
}

}  // namespace

void validate_network(const RunConfig& c) {
  try {
    parse_activation(c.activation);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(user_message(e));
  }
  if (!std::isfinite(c.output_weight))
    throw ConfigError("--output-weight: must be a finite number (got " + show(c.output_weight) + ")");
  if (c.data.empty() || c.data == "file:")
    throw ConfigError("--data: needs file:PATH.h5 or a formula in x (got '" + c.data + "')");
  if (!is_file(c.data)) Expression(c.data, "data");
  if (c.data_points < 2 || c.data_points > k_max_data_points)
    throw ConfigError("--data-points: must be in [2, " + std::to_string(k_max_data_points) + "] (got " +
                      std::to_string(c.data_points) + ")");
  if (!std::isfinite(c.data_range[0]) || !std::isfinite(c.data_range[1]) || !(c.data_range[0] < c.data_range[1]))
    throw ConfigError("--data-range: must be A,B with finite A < B (got " + show(c.data_range[0]) + "," +
                      show(c.data_range[1]) + ")");
  if (c.kernel != "auto" && c.kernel != "none")
    throw ConfigError("--kernel: does not apply to --case mean-field-network (its kernel is the network's; got '" +
                      c.kernel + "')");
  if (c.potential != "auto" && c.potential != "none")
    throw ConfigError("--potential: does not apply to --case mean-field-network (the data set V; got '" + c.potential +
                      "')");
  if (!is_file(c.data)) check_memory(c, static_cast<double>(c.data_points));
}

std::string network_ini(const RunConfig& c) {
  if (c.case_name != "mean-field-network") return "";
  return "output-weight = " + show(c.output_weight) + "\ndata = " + c.data +
         "\ndata-points = " + std::to_string(c.data_points) + "\ndata-range = " + show(c.data_range[0]) + "," +
         show(c.data_range[1]) + "\nactivation = " + c.activation + "\n";
}

double network_memory_bytes(const RunConfig& c) {
  if (c.case_name != "mean-field-network" || is_file(c.data)) return 0.0;
  return NetworkKernel<1>::bytes_for(cells_of(c), rows_of(c), static_cast<double>(c.data_points));
}

NetworkSpec network_spec_of(const RunConfig& c) {
  NetworkSpec s;
  s.activation = parse_activation(c.activation);
  s.output_weight = c.output_weight;
  if (is_file(c.data)) {
    const std::string path = c.data.substr(5);
    try {
      h5::File file = h5::open_file(path, false);
      s.x = read_data_column(file.id(), path, "/x");
      s.y = read_data_column(file.id(), path, "/y");
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      throw ConfigError("--data: cannot read file:" + path + ": " + e.what());
    }
    if (s.x.size() != s.y.size())
      throw ConfigError("--data: file:" + path + " has " + std::to_string(s.x.size()) + " values in /x but " +
                        std::to_string(s.y.size()) + " in /y");
    if (s.x.size() > static_cast<std::size_t>(k_max_data_points))
      throw ConfigError("--data: file:" + path + " has " + std::to_string(s.x.size()) + " points, more than " +
                        std::to_string(k_max_data_points) +
                        " (the data are stored as root attributes of the output, which HDF5 limits to 64 KiB)");
    check_memory(c, static_cast<double>(s.x.size()));
    return s;
  }
  const Expression formula(c.data, "data");
  const auto n = static_cast<std::size_t>(c.data_points);
  const double a = c.data_range[0], b = c.data_range[1];
  for (std::size_t j = 0; j < n; ++j) {
    const double x = j + 1 == n ? b : a + (b - a) * static_cast<double>(j) / static_cast<double>(n - 1);
    const double y = formula(&x, 1);
    if (!std::isfinite(y))
      throw ConfigError("--data: the formula gives y = " + show(y) + " at x = " + show(x) + "; the data must be finite");
    s.x.push_back(x);
    s.y.push_back(y);
  }
  return s;
}

}  // namespace wgflow
