#include "deviceplugin/devices/dcmi_library.h"

#include <gtest/gtest.h>

#include <cstddef>

#include "dcmi_interface_api.h"  // npu-sim's copy of the vendor header
#include "deviceplugin/devices/internal/dcmi_abi.h"

namespace npushare::deviceplugin::devices {
namespace {

namespace abi = dcmi_internal;

TEST(DcmiAbiTest, LayoutsMatchTheVendorHeader) {
  EXPECT_EQ(sizeof(abi::ChipInfo), sizeof(dcmi_chip_info));
  EXPECT_EQ(offsetof(abi::ChipInfo, aicore_cnt), offsetof(dcmi_chip_info, aicore_cnt));
  EXPECT_EQ(sizeof(abi::DieId), sizeof(dcmi_die_id));
  EXPECT_EQ(sizeof(abi::VdevQuery), sizeof(dcmi_vdev_query_stru));
  EXPECT_EQ(offsetof(abi::VdevQuery, query_info), offsetof(dcmi_vdev_query_stru, query_info));
  EXPECT_EQ(offsetof(abi::VdevQueryInfo, is_container_used),
            offsetof(dcmi_vdev_query_info, is_container_used));
  EXPECT_EQ(offsetof(abi::VdevQueryInfo, container_id),
            offsetof(dcmi_vdev_query_info, container_id));
  EXPECT_EQ(sizeof(abi::SocTotalResource), sizeof(dcmi_soc_total_resource));
  EXPECT_EQ(offsetof(abi::SocTotalResource, vdev_id), offsetof(dcmi_soc_total_resource, vdev_id));
  EXPECT_EQ(abi::kMainCmdVdevMng, static_cast<int>(DCMI_MAIN_CMD_VDEV_MNG));
  EXPECT_EQ(abi::kSubCmdVdevResource, DCMI_VMNG_SUB_CMD_GET_VDEV_RESOURCE);
  EXPECT_EQ(abi::kSubCmdTotalResource, DCMI_VMNG_SUB_CMD_GET_TOTAL_RESOURCE);
  EXPECT_EQ(abi::kVdieType, static_cast<int>(VDIE));
}

TEST(DcmiTest, DieUuidIsZeroPaddedUpperHex) {
  EXPECT_EQ(FormatDieUuid({0x0000abcd, 0x12345678, 0x9abcdef0, 0, 0xffffffff}),
            "0000ABCD-12345678-9ABCDEF0-00000000-FFFFFFFF");
  EXPECT_EQ(FormatDieUuid({1, 2, 3, 4, 5}).size(), 44u);
}

TEST(DcmiTest, ErrorCodesMapByWhatTheCallerShouldDo) {
  EXPECT_TRUE(DcmiStatus(0, "x").ok());
  EXPECT_EQ(DcmiStatus(-8001, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DcmiStatus(-8002, "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(DcmiStatus(-8008, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(DcmiStatus(-8020, "x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(DcmiStatus(-8255, "x").code(), StatusCode::kUnimplemented);
  EXPECT_EQ(DcmiStatus(-99998, "x").code(), StatusCode::kUnimplemented);
  EXPECT_EQ(DcmiStatus(-8012, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(DcmiStatus(-8006, "x").code(), StatusCode::kUnavailable);
}

TEST(DcmiLibraryTest, MissingLibraryIsNotFound) {
  DcmiLibraryOptions opts;
  opts.path = "/nonexistent/libdcmi.so";
  auto lib = DcmiLibrary::Open(opts);
  EXPECT_EQ(lib.status().code(), StatusCode::kNotFound);
}

TEST(DcmiLibraryTest, LibraryWithoutDcmiSymbolsIsRefused) {
  DcmiLibraryOptions opts;
  opts.path = "libc.so.6";  // loads fine, has no dcmi_init
  auto lib = DcmiLibrary::Open(opts);
  EXPECT_EQ(lib.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace npushare::deviceplugin::devices
