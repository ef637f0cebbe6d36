#include "io/particle_file.hpp"

#include <filesystem>
#include <stdexcept>

#include "io/h5.hpp"

namespace wgflow {

std::vector<double> read_particle_positions(const std::string& path, int dim) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw std::runtime_error("'" + path + "' is not a readable file");
  if (h5::is_not_hdf5_file(path)) throw std::runtime_error("'" + path + "' is not an HDF5 file");
  h5::File file = h5::open_file(path, false);
  if (!h5::is_dataset(file.id(), "/positions"))
    throw std::runtime_error("'" + path + "' has no dataset /positions (N x " + std::to_string(dim) + ")");
  h5::Dataset positions = h5::open_dataset(file.id(), "/positions");
  const H5T_class_t type = h5::dataset_type_class(positions.id());
  if (type != H5T_FLOAT && type != H5T_INTEGER)
    throw std::runtime_error("'" + path + "': /positions must hold numbers");
  const std::vector<hsize_t> dims = h5::dataset_dims(positions.id());
  const bool rows = dims.size() == 2 && dims[1] == static_cast<hsize_t>(dim);
  const bool plain = dims.size() == 1 && dim == 1;
  if (!rows && !plain) {
    std::string shape;
    for (std::size_t i = 0; i < dims.size(); ++i) shape += (i ? " x " : "") + std::to_string(dims[i]);
    throw std::runtime_error("'" + path + "': /positions must be N x " + std::to_string(dim) + " (got " +
                             (shape.empty() ? "a scalar" : shape) + ")");
  }
  return h5::read_dataset(positions.id());
}

}  // namespace wgflow
