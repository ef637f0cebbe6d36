#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "io/h5.hpp"
#include "tests/io/io_test_util.hpp"

using namespace wgflow;
using wgflow::io_test::error_of;
using wgflow::io_test::same_bits;
using wgflow::io_test::TempDir;

TEST_SUITE("io") {
  TEST_CASE("h5 attributes of every supported type round-trip bitwise") {
    TempDir dir;
    const std::string path = dir.file("attrs.h5");
    const std::string config = "[grid]\nn = 64\n# unicode: ρ ≥ 0\n";
    const std::vector<double> doubles{0.1, -0.0, 1e-300, std::numeric_limits<double>::max()};
    const std::vector<long> longs{1, -7, 1L << 40};
    {
      h5::File file = h5::create_file(path);
      h5::write_attribute(file.id(), "config", config);
      h5::write_attribute(file.id(), "literal", "wgflow");
      h5::write_attribute(file.id(), "empty", std::string());
      h5::write_attribute(file.id(), "x", 1.0 / 3.0);
      h5::write_attribute(file.id(), "step", 1234567890123L);
      h5::write_attribute(file.id(), "dim", 3);
      h5::write_attribute(file.id(), "doubles", doubles);
      h5::write_attribute(file.id(), "longs", longs);
      h5::write_attribute(file.id(), "none", std::vector<double>{});
      h5::write_attribute(file.id(), "x", 2.5);  // replaces, does not fail
    }
    h5::File file = h5::open_file(path, false);
    CHECK(h5::read_string_attribute(file.id(), "config") == config);
    CHECK(h5::read_string_attribute(file.id(), "literal") == "wgflow");
    CHECK(h5::read_string_attribute(file.id(), "empty").empty());
    CHECK(same_bits(h5::read_double_attribute(file.id(), "x"), 2.5));
    CHECK(h5::read_long_attribute(file.id(), "step") == 1234567890123L);
    CHECK(h5::read_long_attribute(file.id(), "dim") == 3);
    CHECK(same_bits(h5::read_double_attribute(file.id(), "dim"), 3.0));
    CHECK(same_bits(h5::read_double_vector_attribute(file.id(), "doubles"), doubles));
    CHECK(h5::read_long_vector_attribute(file.id(), "longs") == longs);
    CHECK(h5::read_double_vector_attribute(file.id(), "none").empty());
    CHECK(h5::has_attribute(file.id(), "dim"));
    CHECK_FALSE(h5::has_attribute(file.id(), "nope"));
  }

  TEST_CASE("h5 reads fixed-length string attributes written by other tools") {
    TempDir dir;
    const std::string path = dir.file("fixed.h5");
    {
      h5::File file = h5::create_file(path);
      h5::Datatype type(H5Tcopy(H5T_C_S1));
      H5Tset_size(type.id(), 16);
      H5Tset_strpad(type.id(), H5T_STR_NULLPAD);
      h5::Dataspace space(H5Screate(H5S_SCALAR));
      h5::Attribute attr(H5Acreate2(file.id(), "name", type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT));
      char buf[16] = "porous";
      REQUIRE(H5Awrite(attr.id(), type.id(), buf) >= 0);
    }
    h5::File file = h5::open_file(path, false);
    CHECK(h5::read_string_attribute(file.id(), "name") == "porous");
  }

  TEST_CASE("h5 datasets and external links round-trip") {
    TempDir dir;
    const std::string path = dir.file("data.h5");
    std::vector<double> values(12);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.7 * double(i)) / 3.0;
    {
      h5::File file = h5::create_file(path);
      h5::Group group = h5::create_group(file.id(), "a");
      h5::write_dataset(group.id(), "q", {3, 4}, values.data());
      h5::write_dataset(file.id(), "col", {0}, nullptr);  // an empty column, as a run's first main file has
      h5::create_external_link(file.id(), "elsewhere", "other.h5", "/b");
    }
    h5::File file = h5::open_file(path, false);
    h5::Dataset q = h5::open_dataset(file.id(), "/a/q");
    CHECK(h5::dataset_dims(q.id()) == std::vector<hsize_t>{3, 4});
    CHECK(h5::dataset_type_class(q.id()) == H5T_FLOAT);
    CHECK(same_bits(h5::read_dataset(q.id()), values));
    CHECK(h5::read_dataset(file.id(), "col").empty());
    CHECK(h5::external_link_target(file.id(), "elsewhere") == "other.h5");
    CHECK(h5::external_link_target(file.id(), "a").empty());
    CHECK(h5::external_link_target(file.id(), "missing").empty());
    CHECK(h5::link_exists(file.id(), "/a/q"));
    CHECK(h5::link_exists(file.id(), "a"));
    CHECK_FALSE(h5::link_exists(file.id(), "/missing/deeper/q"));
    CHECK(h5::is_dataset(file.id(), "/a/q"));
    CHECK_FALSE(h5::is_dataset(file.id(), "/a"));
    CHECK(h5::child_names(file.id()) == std::vector<std::string>{"a", "col", "elsewhere"});
  }

  TEST_CASE("h5 reads any box of an array stored in its shape or flat") {
    // A decomposed run's ranks read their boxes (io/h5.hpp Box); a box may cut any axis, though
    // wgflow's splits never cut x in 2D/3D (then the flat selection is one strided hyperslab).
    TempDir dir;
    const std::string path = dir.file("boxes.h5");
    const std::vector<hsize_t> global{4, 5, 6};  // z, y, x
    std::vector<double> values(120);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.5 + std::sin(0.7 * double(i));
    {
      h5::File file = h5::create_file(path);
      h5::write_dataset(file.id(), "shaped", global, values.data());
      h5::write_dataset(file.id(), "flat", {120}, values.data());
    }
    h5::File file = h5::open_file(path, false);
    h5::Dataset shaped = h5::open_dataset(file.id(), "shaped"), flat = h5::open_dataset(file.id(), "flat");
    const std::vector<std::pair<std::vector<hsize_t>, std::vector<hsize_t>>> boxes{
        {{0, 0, 0}, {4, 5, 6}}, {{1, 0, 0}, {2, 5, 6}}, {{1, 2, 0}, {3, 2, 6}}, {{0, 1, 2}, {4, 3, 3}},
        {{3, 4, 5}, {1, 1, 1}}, {{2, 0, 1}, {1, 5, 4}}};
    for (const auto& [start, count] : boxes) {
      const h5::Box box{global, start, count};
      std::vector<double> expected(box.size());
      for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = values[box.global_index(i)];
      CAPTURE(start[0]);
      CAPTURE(start[1]);
      CAPTURE(count[2]);
      CHECK(same_bits(h5::read_box(shaped.id(), box, false), expected));
      CHECK(same_bits(h5::read_box(flat.id(), box, true), expected));
    }
    CHECK(same_bits(h5::read_box(flat.id(), h5::Box{}, true), values));  // no box: the whole array
    CHECK(error_of([&] { h5::read_box(flat.id(), h5::Box{{4, 5, 5}, {0, 0, 0}, {1, 1, 1}}, true); }).find("grid's shape") !=
          std::string::npos);
  }

  TEST_CASE("h5 failures become runtime_errors naming the object") {
    TempDir dir;
    const std::string missing = dir.file("missing.h5");
    std::string msg = error_of([&] { h5::open_file(missing, false); });
    CHECK(msg.find("HDF5: cannot open file '" + missing + "'") == 0);
    CHECK_FALSE(h5::is_hdf5_file(missing));
    CHECK_FALSE(h5::is_not_hdf5_file(missing));  // cannot tell: no file
    const std::string text = dir.file("text.h5");
    std::ofstream(text) << "not hdf5\n";
    CHECK(h5::is_not_hdf5_file(text));
    CHECK_FALSE(h5::is_hdf5_file(text));

    const std::string path = dir.file("x.h5");
    h5::File file = h5::create_file(path);
    msg = error_of([&] { h5::open_dataset(file.id(), "/nothing/here"); });
    CHECK(msg.find("'/nothing/here'") != std::string::npos);
    CHECK(msg.find(path) != std::string::npos);
    msg = error_of([&] { h5::read_long_attribute(file.id(), "absent"); });
    CHECK(msg.find("no attribute 'absent'") != std::string::npos);
    h5::write_attribute(file.id(), "text", "abc");
    CHECK(error_of([&] { h5::read_double_attribute(file.id(), "text"); }).find("not numeric") !=
          std::string::npos);
  }

  TEST_CASE("h5 handles are move-only owners") {
    TempDir dir;
    h5::File a = h5::create_file(dir.file("m.h5"));
    const hid_t id = a.id();
    h5::File b = std::move(a);
    CHECK_FALSE(a.valid());
    CHECK(b.id() == id);
    b.reset();
    CHECK_FALSE(b.valid());
    CHECK(H5Iis_valid(id) <= 0);
  }
}
