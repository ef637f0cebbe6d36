#include "io/h5.hpp"

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>
#include <stdexcept>

namespace wgflow::h5 {

namespace {

/// Collects the minor error numbers of the HDF5 error stack.
herr_t collect_minor(unsigned, const H5E_error2_t* err, void* client) {
  if (err != nullptr) static_cast<std::vector<hid_t>*>(client)->push_back(err->min_num);
  return 0;
}

/// True if any entry of the HDF5 error stack reports an errno saying the file system is full (the
/// sec2 driver writes "errno = 28, error message = 'No space left on device'").
herr_t find_no_space(unsigned, const H5E_error2_t* err, void* client) {
  if (err == nullptr || err->desc == nullptr) return 0;
  for (int code : {ENOSPC, EDQUOT, EFBIG})
    if (std::strstr(err->desc, ("errno = " + std::to_string(code) + ",").c_str()) != nullptr)
      *static_cast<bool*>(client) = true;
  return 0;
}

std::atomic<unsigned long> g_failed_closes{0};

/// What went wrong, in words a user can act on, from HDF5's minor error numbers (HDF5's own
/// descriptions, such as "bytes actually written = 18446744073709551615", are for its developers).
std::string plain_reason_of(const std::vector<hid_t>& minor, int saved_errno) {
  auto any = [&](hid_t code) { return std::find(minor.begin(), minor.end(), code) != minor.end(); };
  if (saved_errno == ENOSPC || saved_errno == EDQUOT) return "no space left on the device";
  if (any(H5E_TRUNCATED)) return "the file is truncated";
  if (any(H5E_NOTHDF5)) return "not an HDF5 file";
  if (any(H5E_WRITEERROR)) return "writing failed" + (saved_errno != 0 ? ": " + std::string(std::strerror(saved_errno)) : "");
  if (any(H5E_READERROR) || any(H5E_SEEKERROR)) return "the file is truncated or unreadable";
  if (any(H5E_CANTOPENFILE) && saved_errno != 0) return std::strerror(saved_errno);
  if (minor.empty()) return "";
  return "the file is damaged or not laid out as wgflow writes it";
}


/// A scalar dataspace, or a 1-D one of `n` elements.
Dataspace make_space(hsize_t n, bool scalar) {
  if (scalar) return Dataspace(check(H5Screate(H5S_SCALAR), "cannot create scalar dataspace"));
  return Dataspace(check(H5Screate_simple(1, &n, nullptr), "cannot create 1-D dataspace"));
}

/// Creates (after deleting any previous one) attribute `name` and writes `data` into it.
void write_raw_attribute(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type,
                         hsize_t n, bool scalar, const void* data) {
  if (has_attribute(obj, name))
    check_status(H5Adelete(obj, name.c_str()), "cannot replace attribute '" + name + "' of " +
                                                   describe(obj));
  Dataspace space = make_space(n, scalar);
  Attribute attr(check(H5Acreate2(obj, name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                       "cannot create attribute '" + name + "' on " + describe(obj)));
  if (scalar || n > 0)
    check_status(H5Awrite(attr.id(), mem_type, data),
                 "cannot write attribute '" + name + "' on " + describe(obj));
}

Attribute open_attribute(hid_t obj, const std::string& name) {
  return Attribute(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT),
                         "no attribute '" + name + "' on " + describe(obj)));
}

hssize_t attribute_size(hid_t attr, const std::string& name) {
  Dataspace space(check(H5Aget_space(attr), "cannot query attribute '" + name + "'"));
  hssize_t n = H5Sget_simple_extent_npoints(space.id());
  if (n < 0) fail("cannot query size of attribute '" + name + "'");
  return n;
}

template <class T>
std::vector<T> read_numeric_attribute(hid_t obj, const std::string& name, hid_t mem_type) {
  Attribute attr = open_attribute(obj, name);
  Datatype type(check(H5Aget_type(attr.id()), "cannot query type of attribute '" + name + "'"));
  H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw std::runtime_error("HDF5: attribute '" + name + "' on " + describe(obj) +
                             " is not numeric");
  std::vector<T> values(static_cast<std::size_t>(attribute_size(attr.id(), name)));
  if (!values.empty())
    check_status(H5Aread(attr.id(), mem_type, values.data()),
                 "cannot read attribute '" + name + "' on " + describe(obj));
  return values;
}

template <class T>
T read_one(hid_t obj, const std::string& name, hid_t mem_type) {
  std::vector<T> v = read_numeric_attribute<T>(obj, name, mem_type);
  if (v.size() != 1)
    throw std::runtime_error("HDF5: attribute '" + name + "' on " + describe(obj) + " has " +
                             std::to_string(v.size()) + " elements, expected 1");
  return v[0];
}

}  // namespace

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

unsigned long failed_closes() { return g_failed_closes.load(); }

void note_failed_close() {
  ++g_failed_closes;
  H5Eclear2(H5E_DEFAULT);
}

void fail_close(const std::string& what) {
  ++g_failed_closes;
  fail("cannot close " + what);
}

void fail(const std::string& what) {
  const int saved_errno = errno;
  bool no_space = false;
  std::vector<hid_t> minor;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_no_space, &no_space);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_minor, &minor);
  H5Eclear2(H5E_DEFAULT);
  if (no_space) throw Error("HDF5: " + what + ": no space left on the device", true, "no space left on the device");
  const std::string reason = plain_reason_of(minor, saved_errno);
  throw Error("HDF5: " + what + (reason.empty() ? "" : ": " + reason), false, reason);
}

std::string plain_reason(const std::exception& e) {
  if (const auto* error = dynamic_cast<const Error*>(&e)) return error->reason().empty() ? "unreadable" : error->reason();
  return e.what();
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

std::string describe(hid_t loc, const std::string& name) {
  std::string object = "?";
  std::string file = "?";
  char buf[1024];
  ssize_t n = H5Iget_name(loc, buf, sizeof buf);
  if (n >= 0) object = buf;
  n = H5Fget_name(loc, buf, sizeof buf);
  if (n >= 0) file = buf;
  H5Eclear2(H5E_DEFAULT);
  if (!name.empty()) {
    if (name.front() == '/') object = name;
    else object += (object.empty() || object.back() != '/' ? "/" : "") + name;
  }
  return "'" + object + "' in '" + file + "'";
}

File create_file(const std::string& path) {
  init();
  PropList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access properties"));
  check_status(H5Pset_fclose_degree(fapl.id(), H5F_CLOSE_STRONG), "cannot set close degree");
  return File(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()),
                    "cannot create file '" + path + "'"));
}

File create_file_parallel(const std::string& path, const void* mpi_comm) {
  init();
#ifdef H5_HAVE_PARALLEL
  PropList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access properties"));
  check_status(H5Pset_fclose_degree(fapl.id(), H5F_CLOSE_STRONG), "cannot set close degree");
  check_status(H5Pset_fapl_mpio(fapl.id(), *static_cast<const MPI_Comm*>(mpi_comm), MPI_INFO_NULL),
               "cannot open '" + path + "' through MPI-IO");
  return File(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()),
                    "cannot create file '" + path + "'"));
#else
  (void)mpi_comm;
  throw std::logic_error("h5::create_file_parallel('" + path + "'): this HDF5 library is not parallel");
#endif
}

File open_file(const std::string& path, bool writable) {
  init();
  PropList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access properties"));
  check_status(H5Pset_fclose_degree(fapl.id(), H5F_CLOSE_STRONG), "cannot set close degree");
  return File(check(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id()),
                    "cannot open file '" + path + "'" + (writable ? " for writing" : "")));
}

bool is_hdf5_file(const std::string& path) {
  init();
  htri_t r = H5Fis_hdf5(path.c_str());
  H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

bool is_not_hdf5_file(const std::string& path) {
  init();
  htri_t r = H5Fis_hdf5(path.c_str());
  H5Eclear2(H5E_DEFAULT);
  return r == 0;
}

void flush(hid_t obj) { check_status(H5Fflush(obj, H5F_SCOPE_GLOBAL), "cannot flush " + describe(obj)); }

Group create_group(hid_t loc, const std::string& name) {
  return Group(check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     "cannot create group " + describe(loc, name)));
}

Group open_group(hid_t loc, const std::string& name) {
  return Group(check(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open group " + describe(loc, name)));
}

Dataset open_dataset(hid_t loc, const std::string& name) {
  return Dataset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT),
                       "cannot open dataset " + describe(loc, name)));
}

bool link_exists(hid_t loc, const std::string& path) {
  // H5Lexists fails (rather than returning false) when an intermediate group is missing.
  std::string prefix = path.empty() || path.front() != '/' ? "" : "/";
  std::size_t start = prefix.size();
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) {
      prefix += path.substr(start, end - start);
      htri_t r = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
      if (r <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
      prefix += '/';
    }
    start = end + 1;
  }
  return true;
}

bool is_dataset(hid_t loc, const std::string& path) {
  if (!link_exists(loc, path)) return false;
  // H5Oopen + H5Iget_type avoids H5Oget_info, whose signature differs between HDF5 1.10 and 1.12.
  hid_t obj = H5Oopen(loc, path.c_str(), H5P_DEFAULT);
  if (obj < 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  bool dataset = H5Iget_type(obj) == H5I_DATASET;
  H5Oclose(obj);
  return dataset;
}

namespace {

/// H5Literate callback: appends the link's name. H5L_info_t and H5Literate are HDF5's unversioned
/// names, mapped together to the 1.10 or the 1.12 API, so this compiles against either.
herr_t append_link_name(hid_t, const char* name, const H5L_info_t*, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}

}  // namespace

std::vector<std::string> child_names(hid_t loc) {
  // One iteration, not H5Lget_name_by_idx per member: for a group in dense storage (more than 8
  // links) every by-index call builds and sorts the whole link table, so listing /steps of a run with
  // 2000 snapshots took 10 s and 8000 took 165 s (wgflow info, --restart, pack).
  std::vector<std::string> names;
  hsize_t index = 0;
  check_status(H5Literate(loc, H5_INDEX_NAME, H5_ITER_INC, &index, append_link_name, &names),
               "cannot list members of " + describe(loc));
  return names;
}

// ---- attributes ---------------------------------------------------------------------------------

void write_attribute(hid_t obj, const std::string& name, const std::string& value) {
  Datatype type(check(H5Tcopy(H5T_C_S1), "cannot copy string type"));
  check_status(H5Tset_size(type.id(), H5T_VARIABLE), "cannot make variable-length string type");
  check_status(H5Tset_cset(type.id(), H5T_CSET_UTF8), "cannot set UTF-8 character set");
  const char* ptr = value.c_str();
  write_raw_attribute(obj, name, type.id(), type.id(), 1, true, &ptr);
}

void write_attribute(hid_t obj, const std::string& name, const char* value) {
  write_attribute(obj, name, std::string(value));
}

void write_attribute(hid_t obj, const std::string& name, double value) {
  write_raw_attribute(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, true, &value);
}

void write_attribute(hid_t obj, const std::string& name, long value) {
  write_raw_attribute(obj, name, H5T_STD_I64LE, H5T_NATIVE_LONG, 1, true, &value);
}

void write_attribute(hid_t obj, const std::string& name, int value) {
  write_raw_attribute(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, 1, true, &value);
}

void write_attribute(hid_t obj, const std::string& name, const std::vector<double>& values) {
  write_raw_attribute(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.size(), false,
                      values.data());
}

void write_attribute(hid_t obj, const std::string& name, const std::vector<long>& values) {
  write_raw_attribute(obj, name, H5T_STD_I64LE, H5T_NATIVE_LONG, values.size(), false,
                      values.data());
}

bool has_attribute(hid_t obj, const std::string& name) {
  htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) fail("cannot query attribute '" + name + "' on " + describe(obj));
  return r > 0;
}

std::string read_string_attribute(hid_t obj, const std::string& name) {
  Attribute attr = open_attribute(obj, name);
  const std::string what = "attribute '" + name + "' on " + describe(obj);
  Datatype type(check(H5Aget_type(attr.id()), "cannot query type of " + what));
  if (H5Tget_class(type.id()) != H5T_STRING)
    throw std::runtime_error("HDF5: " + what + " is not a string");
  if (attribute_size(attr.id(), name) != 1)
    throw std::runtime_error("HDF5: " + what + " is not a single string");
  htri_t variable = H5Tis_variable_str(type.id());
  if (variable < 0) fail("cannot query type of " + what);
  if (variable > 0) {
    char* ptr = nullptr;
    check_status(H5Aread(attr.id(), type.id(), &ptr), "cannot read " + what);
    std::string value = ptr != nullptr ? ptr : "";
    H5free_memory(ptr);
    return value;
  }
  std::size_t size = H5Tget_size(type.id());
  std::string buf(size, '\0');
  check_status(H5Aread(attr.id(), type.id(), buf.data()), "cannot read " + what);
  buf.resize(buf.find('\0') == std::string::npos ? size : buf.find('\0'));
  while (!buf.empty() && buf.back() == ' ') buf.pop_back();  // H5T_STR_SPACEPAD
  return buf;
}

double read_double_attribute(hid_t obj, const std::string& name) {
  return read_one<double>(obj, name, H5T_NATIVE_DOUBLE);
}

long read_long_attribute(hid_t obj, const std::string& name) {
  return read_one<long>(obj, name, H5T_NATIVE_LONG);
}

std::vector<double> read_double_vector_attribute(hid_t obj, const std::string& name) {
  return read_numeric_attribute<double>(obj, name, H5T_NATIVE_DOUBLE);
}

std::vector<long> read_long_vector_attribute(hid_t obj, const std::string& name) {
  return read_numeric_attribute<long>(obj, name, H5T_NATIVE_LONG);
}

// ---- datasets -----------------------------------------------------------------------------------

namespace {
/// False inside a ReplicatedData scope of a rank that does not write the replicated data.
thread_local bool t_write_replicated = true;
}  // namespace

ReplicatedData::ReplicatedData(bool write_here) : m_previous(t_write_replicated) { t_write_replicated = write_here; }
ReplicatedData::~ReplicatedData() { t_write_replicated = m_previous; }

Dataset write_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                   const double* data) {
  Dataspace space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                        "cannot create dataspace for " + describe(loc, name)));
  Dataset dset(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
                     "cannot create dataset " + describe(loc, name)));
  if (!t_write_replicated) return dset;  // another rank writes the same values (independent I/O)
  check_status(H5Dwrite(dset.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
               "cannot write dataset " + describe(loc, name));
  return dset;
}

Dataset write_virtual_1d(hid_t loc, const std::string& name, const std::vector<VirtualPiece>& pieces) {
  hsize_t total = 0;
  for (const VirtualPiece& p : pieces) total += p.rows;
  if (total == 0) return write_dataset(loc, name, {0}, nullptr);
  Dataspace space(check(H5Screate_simple(1, &total, nullptr), "cannot create dataspace for " + describe(loc, name)));
  PropList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"));
  const double missing = std::numeric_limits<double>::quiet_NaN();
  check_status(H5Pset_fill_value(dcpl.id(), H5T_NATIVE_DOUBLE, &missing), "cannot set fill value");
  hsize_t first = 0;
  for (const VirtualPiece& p : pieces) {
    if (p.rows == 0) continue;
    Dataspace source(check(H5Screate_simple(1, &p.rows, nullptr), "cannot create dataspace for " + p.file));
    check_status(H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, &first, nullptr, &p.rows, nullptr),
                 "cannot select rows of " + describe(loc, name));
    check_status(H5Pset_virtual(dcpl.id(), space.id(), p.file.c_str(), p.dataset.c_str(), source.id()),
                 "cannot map " + p.file + ":" + p.dataset + " into " + describe(loc, name));
    first += p.rows;
  }
  check_status(H5Sselect_all(space.id()), "cannot select " + describe(loc, name));
  return Dataset(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
                       "cannot create virtual dataset " + describe(loc, name)));
}

std::vector<std::string> virtual_source_files(hid_t dataset) {
  PropList dcpl(check(H5Dget_create_plist(dataset), "cannot query layout of " + describe(dataset)));
  if (H5Pget_layout(dcpl.id()) != H5D_VIRTUAL) return {};
  size_t count = 0;
  check_status(H5Pget_virtual_count(dcpl.id(), &count), "cannot query pieces of " + describe(dataset));
  std::vector<std::string> files;
  for (size_t i = 0; i < count; ++i) {
    const ssize_t len = H5Pget_virtual_filename(dcpl.id(), i, nullptr, 0);
    if (len < 0) fail("cannot query pieces of " + describe(dataset));
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    if (H5Pget_virtual_filename(dcpl.id(), i, name.data(), name.size()) < 0) fail("cannot query pieces of " + describe(dataset));
    name.resize(static_cast<std::size_t>(len));
    if (files.empty() || files.back() != name) files.push_back(std::move(name));
  }
  return files;
}

std::vector<hsize_t> dataset_dims(hid_t dataset) {
  Dataspace space(check(H5Dget_space(dataset), "cannot query shape of " + describe(dataset)));
  int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) fail("cannot query rank of " + describe(dataset));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr) < 0)
    fail("cannot query shape of " + describe(dataset));
  return dims;
}

H5T_class_t dataset_type_class(hid_t dataset) {
  Datatype type(check(H5Dget_type(dataset), "cannot query type of " + describe(dataset)));
  return H5Tget_class(type.id());
}

std::vector<double> read_dataset(hid_t dataset) {
  H5T_class_t cls = dataset_type_class(dataset);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    throw std::runtime_error("HDF5: dataset " + describe(dataset) + " is not numeric");
  std::size_t n = 1;
  for (hsize_t d : dataset_dims(dataset)) n *= static_cast<std::size_t>(d);
  std::vector<double> values(n);
  if (n > 0)
    check_status(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                 "cannot read dataset " + describe(dataset));
  return values;
}

std::vector<double> read_dataset(hid_t loc, const std::string& name) {
  Dataset dset = open_dataset(loc, name);
  return read_dataset(dset.id());
}

void create_external_link(hid_t loc, const std::string& name, const std::string& file, const std::string& object) {
  check_status(H5Lcreate_external(file.c_str(), object.c_str(), loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
               "cannot create link " + describe(loc, name) + " to '" + file + "'");
}

std::string external_link_target(hid_t loc, const std::string& name) {
  H5L_info_t info;
  if (!link_exists(loc, name) || H5Lget_info(loc, name.c_str(), &info, H5P_DEFAULT) < 0 ||
      info.type != H5L_TYPE_EXTERNAL) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  std::vector<char> value(info.u.val_size);
  const char* file = nullptr;
  const char* object = nullptr;
  unsigned flags = 0;
  if (H5Lget_val(loc, name.c_str(), value.data(), value.size(), H5P_DEFAULT) < 0 ||
      H5Lunpack_elink_val(value.data(), value.size(), &flags, &file, &object) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  return file;
}

void delete_link(hid_t loc, const std::string& name) {
  check_status(H5Ldelete(loc, name.c_str(), H5P_DEFAULT), "cannot delete " + describe(loc, name));
}

}  // namespace wgflow::h5
