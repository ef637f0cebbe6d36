#include <doctest/doctest.h>

#include "io/xdmf.hpp"
#include "tests/io/io_test_util.hpp"

using namespace wgflow;

namespace {

std::vector<XdmfSnapshot> two_snapshots() {
  return {{"a&b.h5.d/000000.h5", "/density", 0.0, 1.0, -0.5, "", 0, 0},
          {"a&b.h5.d/000001.h5", "/density", 0.1, 1.0, -0.75, "", 0, 0}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("xdmf: particles become a Temporal collection of Polyvertex grids beside the density") {
    UniformGrid<2> g;
    g.shape = {4, 3};
    g.upper = {1.0, 1.0};
    CHECK(!contains(xdmf_text(xdmf_geometry(g), two_snapshots()), "Polyvertex"));  // none without particles
    std::vector<XdmfSnapshot> snaps = two_snapshots();
    for (XdmfSnapshot& s : snaps) {
      s.particles_dataset = "/particles";
      s.particles = 5;
      s.particle_dim = 2;
    }
    const std::string text = xdmf_text(xdmf_geometry(g), snaps);
    CHECK(contains(text, "<Grid Name=\"particles\" GridType=\"Collection\" CollectionType=\"Temporal\">"));
    CHECK(contains(text, "<Topology TopologyType=\"Polyvertex\" NumberOfElements=\"5\" NodesPerElement=\"1\"/>"));
    CHECK(contains(text, "<Geometry GeometryType=\"XY\">"));
    CHECK(contains(text, "<DataItem Dimensions=\"5 2\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">"
                         "a&amp;b.h5.d/000001.h5:/particles</DataItem>"));
  }

  TEST_CASE("xdmf: 1D grid becomes a one-cell-thick 3D slab") {
    UniformGrid<1> g;
    g.shape = {6};
    g.lower = {-1.0};
    g.upper = {2.0};
    const std::string text = xdmf_text(xdmf_geometry(g), two_snapshots());
    CHECK(contains(text, "TopologyType=\"3DCoRectMesh\" Dimensions=\"2 2 7\""));
    CHECK(contains(text, "<DataItem Dimensions=\"1 1 6\""));
    CHECK(contains(text, "Format=\"XML\">0 0 -1</DataItem>"));
    CHECK(contains(text, "Format=\"XML\">1 1 0.5</DataItem>"));
  }

  TEST_CASE("xdmf: 2D 8x4 grid has topology 2 5 9 and attribute 1 4 8") {
    UniformGrid<2> g;
    g.shape = {8, 4};
    g.lower = {0.0, -2.0};
    g.upper = {1.0, 2.0};
    const std::string text = xdmf_text(xdmf_geometry(g), two_snapshots());
    CHECK(contains(text, "Dimensions=\"2 5 9\""));
    CHECK(contains(text, "<DataItem Dimensions=\"1 4 8\""));
    CHECK(contains(text, ">0 -2 0</DataItem>"));
    CHECK(contains(text, ">1 1 0.125</DataItem>"));
  }

  TEST_CASE("xdmf: 3D grid lists points and origin and spacing in zyx order") {
    UniformGrid<3> g;
    g.shape = {3, 4, 5};
    g.lower = {0.0, 0.0, 10.0};
    g.upper = {3.0, 2.0, 15.0};
    const std::string text = xdmf_text(xdmf_geometry(g), two_snapshots());
    CHECK(contains(text, "Dimensions=\"6 5 4\""));
    CHECK(contains(text, "<DataItem Dimensions=\"5 4 3\""));
    CHECK(contains(text, ">10 0 0</DataItem>"));
    CHECK(contains(text, ">1 0.5 1</DataItem>"));
  }

  TEST_CASE("xdmf: temporal collection with one snapshot file per time and grid scalars") {
    const std::string text = xdmf_text(XdmfGeometry{}, two_snapshots());
    CHECK(contains(text, "CollectionType=\"Temporal\""));
    CHECK(contains(text, "<Time Value=\"0\"/>"));
    CHECK(contains(text, "<Time Value=\"0.1\"/>"));
    CHECK(contains(text, "Format=\"HDF\">a&amp;b.h5.d/000001.h5:/density</DataItem>"));
    CHECK(contains(text, "<Attribute Name=\"mass\" AttributeType=\"Scalar\" Center=\"Grid\">"));
    CHECK(contains(text, ">-0.75</DataItem>"));
    CHECK(contains(text, "GeometryType=\"ORIGIN_DXDYDZ\""));
    CHECK_FALSE(contains(text, "HyperSlab"));
  }

  TEST_CASE("xdmf: sidecar path and atomic write") {
    CHECK(xdmf_path_for("out/run.h5") == "out/run.xmf");
    CHECK(xdmf_path_for("run.hdf5") == "run.hdf5.xmf");
    CHECK(xdmf_path_for(".h5") == ".h5.xmf");
    wgflow::io_test::TempDir dir;
    const std::string path = dir.file("run.xmf");
    write_xdmf(path, XdmfGeometry{}, two_snapshots());
    CHECK(wgflow::io_test::read_text(path) == xdmf_text(XdmfGeometry{}, two_snapshots()));
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }

  TEST_CASE("format_double prints the shortest text that reads back exactly") {
    CHECK(format_double(0.1) == "0.1");
    CHECK(format_double(2.0) == "2");
    CHECK(format_double(-0.5) == "-0.5");
    const double third = 1.0 / 3.0;
    CHECK(std::stod(format_double(third)) == third);
    CHECK(std::stod(format_double(0.1 + 0.2)) == 0.1 + 0.2);
  }
}
