#include "io/xdmf.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <type_traits>

#include "io/write_error.hpp"

namespace wgflow {

namespace {

/// How a wgflow sidecar's temporal collection starts: what tells it from an XDMF file of someone else.
const char k_collection_tag[] = "<Grid Name=\"wgflow\" GridType=\"Collection\"";

/// Escapes the five XML special characters for use in attribute values and text.
std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

template <class T>
std::string join3(const std::array<T, 3>& v) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  for (int k = 0; k < 3; ++k) {
    if (k > 0) s << ' ';
    if constexpr (std::is_floating_point_v<T>) s << format_double(v[k]);
    else s << v[k];
  }
  return s.str();
}

/// A grid-centred scalar attribute with an inline value.
void write_scalar_attribute(std::ostream& out, const char* name, double value) {
  out << "        <Attribute Name=\"" << name << "\" AttributeType=\"Scalar\" Center=\"Grid\">\n"
      << "          <DataItem Dimensions=\"1\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">"
      << format_double(value) << "</DataItem>\n"
      << "        </Attribute>\n";
}

}  // namespace

std::string format_double(double value) {
  for (int precision = 15; precision <= 17; ++precision) {
    std::ostringstream s;
    s.imbue(std::locale::classic());
    s.precision(precision);
    s << value;
    std::istringstream back(s.str());
    back.imbue(std::locale::classic());
    double parsed = 0.0;
    back >> parsed;
    if (precision == 17 || parsed == value) return s.str();
  }
  return {};  // unreachable
}

template <int Dim>
XdmfGeometry xdmf_geometry(const UniformGrid<Dim>& grid) {
  XdmfGeometry g;
  for (int axis = 0; axis < Dim; ++axis) {
    const int slot = 2 - axis;  // x -> slot 2, y -> slot 1, z -> slot 0
    g.cells_zyx[slot] = grid.global_shape(axis);  // the whole grid, also when this rank holds a box of it
    g.origin_zyx[slot] = grid.lower[axis];
    g.spacing_zyx[slot] = grid.dx(axis);
  }
  return g;
}

std::string xdmf_path_for(const std::string& h5_path) {
  const std::string suffix = ".h5";
  if (h5_path.size() > suffix.size() &&
      h5_path.compare(h5_path.size() - suffix.size(), suffix.size(), suffix) == 0)
    return h5_path.substr(0, h5_path.size() - suffix.size()) + ".xmf";
  return h5_path + ".xmf";
}

bool is_wgflow_xdmf(const std::string& xmf_path) {
  const int fd = ::open(xmf_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char head[1024];
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  return n > 0 && std::string(head, static_cast<std::size_t>(n)).find(k_collection_tag) != std::string::npos;
}

std::string xdmf_text(const XdmfGeometry& geometry, const std::vector<XdmfSnapshot>& snapshots) {
  std::array<long, 3> points{};
  for (int k = 0; k < 3; ++k) points[k] = geometry.cells_zyx[k] + 1;
  const std::string topology = join3(points);
  const std::string cells = join3(geometry.cells_zyx);
  const std::string origin = join3(geometry.origin_zyx);
  const std::string spacing = join3(geometry.spacing_zyx);

  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << "<?xml version=\"1.0\" ?>\n"
      << "<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n"
      << "<Xdmf Version=\"3.0\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
      << "  <Domain>\n"
      << "    " << k_collection_tag << " CollectionType=\"Temporal\">\n";
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    const XdmfSnapshot& snap = snapshots[i];
    char name[32];
    std::snprintf(name, sizeof name, "snapshot_%06zu", i);
    out << "      <Grid Name=\"" << name << "\" GridType=\"Uniform\">\n"
        << "        <Time Value=\"" << format_double(snap.time) << "\"/>\n"
        << "        <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" << topology << "\"/>\n"
        << "        <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n"
        << "          <DataItem Name=\"Origin\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\""
           " Format=\"XML\">" << origin << "</DataItem>\n"
        << "          <DataItem Name=\"Spacing\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\""
           " Format=\"XML\">" << spacing << "</DataItem>\n"
        << "        </Geometry>\n"
        << "        <Attribute Name=\"density\" AttributeType=\"Scalar\" Center=\"Cell\">\n"
        << "          <DataItem Dimensions=\"" << cells << "\" NumberType=\"Float\" Precision=\"8\""
           " Format=\"HDF\">" << xml_escape(snap.file) << ':' << xml_escape(snap.dataset) << "</DataItem>\n"
        << "        </Attribute>\n";
    write_scalar_attribute(out, "mass", snap.mass);
    write_scalar_attribute(out, "energy", snap.energy);
    out << "      </Grid>\n";
  }
  out << "    </Grid>\n";
  bool any_particles = false;
  for (const XdmfSnapshot& snap : snapshots) any_particles = any_particles || !snap.particles_dataset.empty();
  if (any_particles) {
    out << "    <Grid Name=\"particles\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    for (std::size_t i = 0; i < snapshots.size(); ++i) {
      const XdmfSnapshot& snap = snapshots[i];
      if (snap.particles_dataset.empty()) continue;
      char name[32];
      std::snprintf(name, sizeof name, "particles_%06zu", i);
      out << "      <Grid Name=\"" << name << "\" GridType=\"Uniform\">\n"
          << "        <Time Value=\"" << format_double(snap.time) << "\"/>\n"
          << "        <Topology TopologyType=\"Polyvertex\" NumberOfElements=\"" << snap.particles
          << "\" NodesPerElement=\"1\"/>\n"
          << "        <Geometry GeometryType=\"" << (snap.particle_dim == 3 ? "XYZ" : "XY") << "\">\n"
          << "          <DataItem Dimensions=\"" << snap.particles << ' ' << snap.particle_dim
          << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << xml_escape(snap.file) << ':'
          << xml_escape(snap.particles_dataset) << "</DataItem>\n"
          << "        </Geometry>\n"
          << "      </Grid>\n";
    }
    out << "    </Grid>\n";
  }
  out << "  </Domain>\n"
      << "</Xdmf>\n";
  return out.str();
}

void write_xdmf(const std::string& xmf_path, const XdmfGeometry& geometry,
                const std::vector<XdmfSnapshot>& snapshots) {
  const std::string tmp_path = xmf_path + ".tmp";
  const std::string text = xdmf_text(geometry, snapshots);
  // POSIX calls rather than a stream: a full disk must be told apart from other failures by errno.
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw OutputWriteError(xmf_path, is_no_space_errno(errno), std::strerror(errno));
  std::size_t written = 0;
  int error = 0;
  while (written < text.size() && error == 0) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno != EINTR) error = errno;
    if (n > 0) written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    std::remove(tmp_path.c_str());
    throw OutputWriteError(xmf_path, is_no_space_errno(error), std::strerror(error));
  }
  std::error_code ec;
  std::filesystem::rename(tmp_path, xmf_path, ec);
  if (ec) {
    std::remove(tmp_path.c_str());
    throw OutputWriteError(xmf_path, false, "cannot rename '" + tmp_path + "' to it: " + ec.message());
  }
}

template XdmfGeometry xdmf_geometry<1>(const UniformGrid<1>&);
template XdmfGeometry xdmf_geometry<2>(const UniformGrid<2>&);
template XdmfGeometry xdmf_geometry<3>(const UniformGrid<3>&);

}  // namespace wgflow
