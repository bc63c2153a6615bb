// A DCMI process without a usable state: dcmi_init reports the device as missing and every
// other call fails with the not-ready code instead of crashing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "dcmi_interface_api.h"
#include "unit/sim/sim_test_util.h"

namespace {

TEST(DcmiUninitTest, CallsBeforeInitAndWithoutStateFailCleanly) {
  int num = 0;
  int cards[64];
  EXPECT_EQ(dcmi_get_card_list(&num, cards, 64), DCMI_ERR_CODE_NOT_REDAY);
  std::string empty = npushare::sim::testing::MakeTempDir();
  setenv("NPU_SIM_STATE", empty.c_str(), 1);
  EXPECT_EQ(dcmi_init(), DCMI_ERR_CODE_DEVICE_NOT_EXIST);
  unsigned health = 0;
  EXPECT_EQ(dcmi_get_device_health(0, 0, &health), DCMI_ERR_CODE_NOT_REDAY);
  EXPECT_EQ(num, 0);
}

}  // namespace
