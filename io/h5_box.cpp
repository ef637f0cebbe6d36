#include "io/h5.hpp"
/// One rank's box of a global array (h5::Box): selecting it in a dataspace, reading it, and writing
/// it into a file all ranks write together (MPI-IO, parallel HDF5 builds).
#include <stdexcept>
#include <string>
#include <vector>

namespace wgflow::h5 {

bool Box::whole() const {
  for (std::size_t k = 0; k < global.size(); ++k)
    if (start[k] != 0 || count[k] != global[k]) return false;
  return true;
}

std::size_t Box::size() const {
  std::size_t n = 1;
  for (hsize_t c : count) n *= static_cast<std::size_t>(c);
  return n;
}

std::size_t Box::global_index(std::size_t local) const {
  std::size_t flat = 0, stride = 1;
  for (std::size_t k = global.size(); k-- > 0;) {
    const std::size_t i = local % static_cast<std::size_t>(count[k]);
    local /= static_cast<std::size_t>(count[k]);
    flat += (static_cast<std::size_t>(start[k]) + i) * stride;
    stride *= static_cast<std::size_t>(global[k]);
  }
  return flat;
}

void Box::select(hid_t space, bool flat) const {
  if (!flat) {
    check_status(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
                 "cannot select a box of a dataspace");
    return;
  }
  // Flat: the trailing axes the box holds whole (and the first one it does not) make one contiguous
  // run per index of the axes before them. wgflow's splits never cut x in 2D/3D, so the outer axes
  // reduce to one strided hyperslab; any other box is the union of one such hyperslab per outer index.
  const std::size_t n = global.size();
  std::size_t k = n;  // axes k.. form the run
  hsize_t run = 1, stride = 1, first = 0;
  while (k > 0) {
    --k;
    first += start[k] * stride;
    run = count[k] * stride;
    stride *= global[k];
    if (count[k] != global[k]) break;
  }
  // Axes [0, k) are outer; axis k-1 gets one strided hyperslab, axes before it are looped over.
  std::vector<hsize_t> outer(count.begin(), count.begin() + static_cast<std::ptrdiff_t>(k));
  std::vector<hsize_t> index(k, 0);
  std::vector<hsize_t> outer_stride(k);
  for (std::size_t a = k, s = stride; a-- > 0;) {
    outer_stride[a] = s;
    s *= global[a];
  }
  const hsize_t blocks = k > 0 ? count[k - 1] : 1;
  const hsize_t block_stride = k > 0 ? outer_stride[k - 1] : 1;
  H5S_seloper_t op = H5S_SELECT_SET;
  bool done = false;
  while (!done) {
    hsize_t offset = first;
    for (std::size_t a = 0; a + 1 < k; ++a) offset += (start[a] + index[a]) * outer_stride[a];
    if (k > 0) offset += start[k - 1] * outer_stride[k - 1];
    check_status(H5Sselect_hyperslab(space, op, &offset, &block_stride, &blocks, &run), "cannot select a box of a dataspace");
    op = H5S_SELECT_OR;
    done = true;  // next index of axes [0, k-1), last fastest
    for (std::size_t a = k > 1 ? k - 1 : 0; a-- > 0;) {
      if (++index[a] < outer[a]) {
        done = false;
        break;
      }
      index[a] = 0;
    }
  }
}

std::vector<double> read_box(hid_t dataset, const Box& box, bool flat) {
  if (box.global.empty() || box.whole()) {
    std::size_t n = 1;
    for (hsize_t d : box.global) n *= static_cast<std::size_t>(d);
    std::vector<double> values = read_dataset(dataset);
    if (!box.global.empty() && values.size() != n)
      throw std::runtime_error("HDF5: dataset " + describe(dataset) + " has " + std::to_string(values.size()) +
                               " values, expected " + std::to_string(n));
    return values;
  }
  H5T_class_t cls = dataset_type_class(dataset);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    throw std::runtime_error("HDF5: dataset " + describe(dataset) + " is not numeric");
  std::vector<hsize_t> expected = box.global;
  if (flat) {
    hsize_t n = 1;
    for (hsize_t d : box.global) n *= d;
    expected = {n};
  }
  if (dataset_dims(dataset) != expected)
    throw std::runtime_error("HDF5: dataset " + describe(dataset) + " does not have the grid's shape");
  Dataspace file_space(check(H5Dget_space(dataset), "cannot query shape of " + describe(dataset)));
  box.select(file_space.id(), flat);
  const hsize_t n = box.size();
  Dataspace memory(check(H5Screate_simple(1, &n, nullptr), "cannot create 1-D dataspace"));
  std::vector<double> values(box.size());
  if (n > 0)
    check_status(H5Dread(dataset, H5T_NATIVE_DOUBLE, memory.id(), file_space.id(), H5P_DEFAULT, values.data()),
                 "cannot read dataset " + describe(dataset));
  return values;
}

namespace {
/// Writes `data` (the elements `memory` selects) to the selection of `space` in the new dataset
/// `created`, collectively if asked; a failed write is returned, not thrown (write_dataset_box).
std::exception_ptr write_selection(hid_t loc, const std::string& name, const Dataset& created, const Dataspace& memory,
                                   const Dataspace& space, const double* data, bool collective) {
  PropList transfer(check(H5Pcreate(H5P_DATASET_XFER), "cannot create transfer properties"));
#ifdef H5_HAVE_PARALLEL
  if (collective) check_status(H5Pset_dxpl_mpio(transfer.id(), H5FD_MPIO_COLLECTIVE), "cannot ask for a collective write");
#else
  if (collective) throw std::logic_error("h5: a collective write needs a parallel HDF5 library");
#endif
  if (H5Dwrite(created.id(), H5T_NATIVE_DOUBLE, memory.id(), space.id(), transfer.id(), data) >= 0) return nullptr;
  try {
    fail("cannot write dataset " + describe(loc, name));
  } catch (...) {
    return std::current_exception();
  }
}
}  // namespace

std::exception_ptr write_dataset_box(hid_t loc, const std::string& name, const Box& box, bool flat,
                                     const double* data, bool collective, Dataset& created) {
  std::vector<hsize_t> dims = box.global;
  if (flat) {
    hsize_t n = 1;
    for (hsize_t d : box.global) n *= d;
    dims = {n};
  }
  Dataspace space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                        "cannot create dataspace for " + describe(loc, name)));
  PropList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"));
  // Parallel HDF5 allocates the whole dataset at creation; every element is written next.
  check_status(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER), "cannot set fill time");
  created = Dataset(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
                          "cannot create dataset " + describe(loc, name)));
  box.select(space.id(), flat);
  const hsize_t n = box.size();
  Dataspace memory(check(H5Screate_simple(1, &n, nullptr), "cannot create 1-D dataspace"));
  return write_selection(loc, name, created, memory, space, data, collective);
}

std::exception_ptr write_dataset_rows(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                                      const std::vector<std::int64_t>& rows, const double* data, bool collective,
                                      Dataset& created) {
  Dataspace space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                        "cannot create dataspace for " + describe(loc, name)));
  PropList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"));
  check_status(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER), "cannot set fill time");  // every row is written
  created = Dataset(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
                          "cannot create dataset " + describe(loc, name)));
  hsize_t row_length = 1;
  for (std::size_t k = 1; k < dims.size(); ++k) row_length *= dims[k];
  const hsize_t n = rows.size() * row_length;
  const std::size_t rank = dims.size();
  // Every element's coordinates, in the order of `data`.
  std::vector<hsize_t> coordinates(n * rank);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (hsize_t e = 0; e < row_length; ++e) {
      hsize_t* at = coordinates.data() + (r * row_length + e) * rank;
      at[0] = static_cast<hsize_t>(rows[r]);
      hsize_t rest = e;
      for (std::size_t k = rank; k-- > 1;) {
        at[k] = rest % dims[k];
        rest /= dims[k];
      }
    }
  const hsize_t one = 1;
  Dataspace memory(check(H5Screate_simple(1, n > 0 ? &n : &one, nullptr), "cannot create 1-D dataspace"));
  if (n > 0) {
    check_status(H5Sselect_elements(space.id(), H5S_SELECT_SET, n, coordinates.data()), "cannot select rows of a dataspace");
  } else {  // no rows here: still part of the collective write
    check_status(H5Sselect_none(space.id()), "cannot select nothing in a dataspace");
    check_status(H5Sselect_none(memory.id()), "cannot select nothing in a dataspace");
  }
  return write_selection(loc, name, created, memory, space, data, collective);
}

}  // namespace wgflow::h5
