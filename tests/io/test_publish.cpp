/// publish_h5_file: a file is published whole or not at all, and a failed write says which file.
#include <doctest/doctest.h>

#include "io/h5.hpp"
#include "io/output_files.hpp"
#include "tests/io/io_test_util.hpp"

using namespace wgflow;
using wgflow::io_test::TempDir;

TEST_SUITE("io") {
  TEST_CASE("publish_h5_file replaces a file whole and a failed write keeps the previous one") {
    TempDir dir;
    const std::string path = dir.file("a.h5");
    publish_h5_file(path, [](hid_t file) { h5::write_attribute(file, "version", 1L); });
    {
      h5::File file = h5::open_file(path, false);
      CHECK(h5::read_long_attribute(file.id(), "version") == 1);
    }
    // An HDF5 failure half way (here: an attribute on an object that does not exist) is a write error
    // naming the final path; the temporary file is gone and the published file is the previous one.
    bool thrown = false;
    try {
      publish_h5_file(path, [](hid_t file) {
        h5::write_attribute(file, "version", 2L);
        h5::open_group(file, "missing");
      });
    } catch (const OutputWriteError& e) {
      thrown = true;
      CHECK(e.path() == path);
      CHECK(!e.disk_full());
      CHECK(std::string(e.what()).rfind("cannot write " + path + ": HDF5: cannot open group", 0) == 0);
    }
    CHECK(thrown);
    CHECK(dir.listing() == std::vector<std::string>{"a.h5"});
    h5::File file = h5::open_file(path, false);
    CHECK(h5::read_long_attribute(file.id(), "version") == 1);
  }

  TEST_CASE("an h5 handle's explicit close reports a failure that its destructor only counts") {
    const unsigned long before = h5::failed_closes();
    TempDir dir;
    h5::File file = h5::create_file(dir.file("b.h5"));
    const hid_t id = file.id();
    file.close("'b.h5'");
    CHECK(!file.valid());
    h5::File again(id);  // the same identifier a second time: closing it fails
    CHECK_THROWS_AS(again.close("'b.h5' again"), h5::Error);
    CHECK(h5::failed_closes() == before + 1);
    h5::File twice(id);
    twice.reset();
    CHECK(h5::failed_closes() == before + 2);
  }
}
