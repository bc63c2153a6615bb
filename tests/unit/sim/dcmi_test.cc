// DCMI conformance: struct layouts, ids, error codes and values, through libdcmi.so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "dcmi_interface_api.h"
#include "unit/sim/sim_test_util.h"

namespace {

// Card 0: 910B3 (phy 0); card 32: 910B3, critical (phy 1); card 40: 910C (phy 2, 3).
constexpr char kNode[] = R"(
cards:
  - id: 0
    model: 910B3
    chips: [{die_id: [0x0ABCDEF0, 0x12345678, 1, 2, 3], temperature_c: 41, power_w: 90.5}]
  - id: 32
    model: 910B3
    chips: [{health: critical, error_codes: [0x80E01801, 0x80CB8009]}]
  - id: 40
    model: 910C
)";

class DcmiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unsetenv("ASCEND_VISIBLE_DEVICES");
    npushare::sim::testing::UseNewState(kNode);
    ASSERT_EQ(dcmi_init(), DCMI_OK);
  }
};

TEST_F(DcmiTest, StructLayoutsMatchTheMeasuredAbi) {
  EXPECT_EQ(offsetof(dcmi_chip_info, aicore_cnt), 96u);
  EXPECT_EQ(offsetof(dcmi_chip_info_v2, npu_name), 100u);
  EXPECT_EQ(offsetof(dcmi_hbm_info, memory_usage), 16u);
  EXPECT_EQ(offsetof(dcmi_hbm_info, bandwith_util_rate), 28u);
  EXPECT_EQ(offsetof(dcmi_get_memory_info_stru, hugepagesize), 24u);
  EXPECT_EQ(offsetof(dcmi_get_memory_info_stru, utiliza), 48u);
  EXPECT_EQ(offsetof(dcmi_proc_mem_info, proc_mem_usage), 8u);
  EXPECT_EQ(offsetof(dcmi_create_vdev_res_stru, template_name), 8u);
  EXPECT_EQ(offsetof(dcmi_create_vdev_res_stru, reserved), 40u);
  EXPECT_EQ(offsetof(dcmi_computing_resource, memory_size), 24u);
  EXPECT_EQ(offsetof(dcmi_computing_resource, topic_schedule_aicpu), 48u);
  EXPECT_EQ(offsetof(dcmi_computing_resource, device_aicpu), 54u);
  EXPECT_EQ(offsetof(dcmi_computing_resource, vdev_aicore_utilization), 60u);
  EXPECT_EQ(offsetof(dcmi_computing_resource, vdev_memory_free), 72u);
  EXPECT_EQ(offsetof(dcmi_vdev_query_info, container_id), 32u);
  EXPECT_EQ(offsetof(dcmi_vdev_query_info, base), 40u);
  EXPECT_EQ(offsetof(dcmi_vdev_query_info, computing), 104u);
  EXPECT_EQ(offsetof(dcmi_vdev_query_info, media), 200u);
  EXPECT_EQ(offsetof(dcmi_vdev_query_stru, query_info), 8u);
  EXPECT_EQ(offsetof(dcmi_soc_total_resource, vfg_num), 132u);
  EXPECT_EQ(offsetof(dcmi_soc_total_resource, base), 144u);
  EXPECT_EQ(offsetof(dcmi_soc_total_resource, computing), 208u);
  EXPECT_EQ(offsetof(dcmi_soc_total_resource, media), 304u);
}

TEST_F(DcmiTest, EnumeratesSparseCardsAndMapsIds) {
  int num = 0;
  int cards[64];
  ASSERT_EQ(dcmi_get_card_list(&num, cards, 64), DCMI_OK);
  ASSERT_EQ(num, 3);
  EXPECT_EQ(cards[1], 32);
  EXPECT_EQ(cards[2], 40);
  int small[2];
  EXPECT_EQ(dcmi_get_card_list(&num, small, 2), DCMI_ERR_CODE_INVALID_PARAMETER);
  int n = 0;
  ASSERT_EQ(dcmi_get_device_num_in_card(40, &n), DCMI_OK);
  EXPECT_EQ(n, 2);
  int max = 0, mcu = 0, cpu = 0;
  ASSERT_EQ(dcmi_get_device_id_in_card(40, &max, &mcu, &cpu), DCMI_OK);
  EXPECT_EQ(max, 2);
  EXPECT_EQ(mcu, -1);
  int logic = -1;
  ASSERT_EQ(dcmi_get_device_logic_id(&logic, 40, 1), DCMI_OK);
  EXPECT_EQ(logic, 3);
  unsigned phy = 99;
  ASSERT_EQ(dcmi_get_device_phyid_from_logicid(3, &phy), DCMI_OK);
  EXPECT_EQ(phy, 3u);
  int card = -1, dev = -1;
  ASSERT_EQ(dcmi_get_card_id_device_id_from_logicid(&card, &dev, 1), DCMI_OK);
  EXPECT_EQ(card, 32);
  EXPECT_EQ(dev, 0);
  ASSERT_EQ(dcmi_get_card_id_device_id_from_phyid(&card, &dev, 2), DCMI_OK);
  EXPECT_EQ(card, 40);
  EXPECT_EQ(dev, 0);
}

TEST_F(DcmiTest, BadIdsGiveTheDocumentedCodes) {
  int n = 0;
  EXPECT_EQ(dcmi_get_device_num_in_card(5, &n), DCMI_ERR_CODE_DEVICE_NOT_EXIST);
  EXPECT_EQ(dcmi_get_device_num_in_card(-1, &n), DCMI_ERR_CODE_INVALID_PARAMETER);
  unsigned h = 0;
  EXPECT_EQ(dcmi_get_device_health(0, 1, &h), DCMI_ERR_CODE_DEVICE_NOT_EXIST);
  EXPECT_EQ(dcmi_get_device_health(0, -1, &h), DCMI_ERR_CODE_INVALID_PARAMETER);
  EXPECT_EQ(dcmi_get_device_health(0, 0, nullptr), DCMI_ERR_CODE_INVALID_PARAMETER);
  unsigned phy = 0;
  EXPECT_EQ(dcmi_get_device_phyid_from_logicid(4, &phy), DCMI_ERR_CODE_DEVICE_NOT_EXIST);
  EXPECT_EQ(dcmi_get_device_phyid_from_logicid(256, &phy), DCMI_ERR_CODE_INVALID_PARAMETER);
  unsigned rate = 0;
  EXPECT_EQ(dcmi_get_device_utilization_rate(0, 0, 77, &rate), DCMI_ERR_CODE_INVALID_PARAMETER);
}

TEST_F(DcmiTest, ChipInfoHealthAndErrorCodes) {
  dcmi_chip_info_v2 info{};
  ASSERT_EQ(dcmi_get_device_chip_info_v2(0, 0, &info), DCMI_OK);
  EXPECT_STREQ(reinterpret_cast<char*>(info.chip_type), "Ascend");
  EXPECT_STREQ(reinterpret_cast<char*>(info.chip_name), "910B3");
  EXPECT_EQ(info.aicore_cnt, 20u);
  ASSERT_EQ(dcmi_get_device_chip_info_v2(40, 1, &info), DCMI_OK);
  EXPECT_STREQ(reinterpret_cast<char*>(info.chip_name), "Ascend910");
  EXPECT_STREQ(reinterpret_cast<char*>(info.npu_name), "9392");
  dcmi_chip_info v1{};
  ASSERT_EQ(dcmi_get_device_chip_info(0, 0, &v1), DCMI_OK);
  EXPECT_STREQ(reinterpret_cast<char*>(v1.chip_name), "910B3");
  unsigned health = 9;
  ASSERT_EQ(dcmi_get_device_health(0, 0, &health), DCMI_OK);
  EXPECT_EQ(health, 0u);
  ASSERT_EQ(dcmi_get_device_health(32, 0, &health), DCMI_OK);
  EXPECT_EQ(health, 3u);
  int count = 0;
  unsigned codes[128];
  ASSERT_EQ(dcmi_get_device_errorcode_v2(32, 0, &count, codes, 128), DCMI_OK);
  ASSERT_EQ(count, 2);
  EXPECT_EQ(codes[0], 0x80E01801u);
  EXPECT_EQ(codes[1], 0x80CB8009u);
}

TEST_F(DcmiTest, DieIdAndTelemetry) {
  dcmi_die_id d{};
  ASSERT_EQ(dcmi_get_device_die_v2(0, 0, VDIE, &d), DCMI_OK);
  EXPECT_EQ(d.soc_die[0], 0x0ABCDEF0u);
  EXPECT_EQ(d.soc_die[1], 0x12345678u);
  dcmi_die_id other{};
  ASSERT_EQ(dcmi_get_device_die_v2(32, 0, VDIE, &other), DCMI_OK);
  EXPECT_NE(std::memcmp(&d, &other, sizeof(d)), 0);
  EXPECT_EQ(dcmi_get_device_die_v2(0, 0, INVALID_DIE, &d), DCMI_ERR_CODE_INVALID_PARAMETER);
  int temp = 0;
  int power = 0;
  ASSERT_EQ(dcmi_get_device_temperature(0, 0, &temp), DCMI_OK);
  EXPECT_EQ(temp, 41);
  ASSERT_EQ(dcmi_get_device_power_info(0, 0, &power), DCMI_OK);
  EXPECT_EQ(power, 905);
  dcmi_board_info board{};
  ASSERT_EQ(dcmi_get_device_board_info(0, 0, &board), DCMI_OK);
  EXPECT_NE(board.board_id, 0xFFFFFFFFu);
}

TEST_F(DcmiTest, MemoryViewsAgree) {
  dcmi_hbm_info hbm{};
  ASSERT_EQ(dcmi_get_device_hbm_info(0, 0, &hbm), DCMI_OK);
  EXPECT_EQ(hbm.memory_size, 65536u);
  EXPECT_EQ(hbm.memory_usage, 4096u);  // device-OS reservation of a 64 GB card
  dcmi_get_memory_info_stru mem{};
  ASSERT_EQ(dcmi_get_device_memory_info_v3(0, 0, &mem), DCMI_OK);
  EXPECT_EQ(mem.memory_size, 65536u);
  EXPECT_LE(mem.memory_available, mem.memory_size);
  dcmi_proc_mem_info procs[MAX_PROC_NUM_IN_DEVICE];
  int n = -1;
  ASSERT_EQ(dcmi_get_device_resource_info(0, 0, procs, &n), DCMI_OK);
  EXPECT_EQ(n, 0);
}

TEST_F(DcmiTest, DeviceShareRoundTripAndValidation) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "device-share set requires root, as on real hosts";
  }
  int flag = -1;
  ASSERT_EQ(dcmi_get_device_share_enable(0, 0, &flag), DCMI_OK);
  EXPECT_EQ(flag, 0);
  ASSERT_EQ(dcmi_set_device_share_enable(0, 0, 1), DCMI_OK);
  ASSERT_EQ(dcmi_get_device_share_enable(0, 0, &flag), DCMI_OK);
  EXPECT_EQ(flag, 1);
  EXPECT_EQ(dcmi_set_device_share_enable(0, 0, 2), DCMI_ERR_CODE_INVALID_PARAMETER);
  // 910C applies per card: setting die 0 flips die 1 too.
  ASSERT_EQ(dcmi_set_device_share_enable(40, 0, 1), DCMI_OK);
  ASSERT_EQ(dcmi_get_device_share_enable(40, 1, &flag), DCMI_OK);
  EXPECT_EQ(flag, 1);
}

TEST_F(DcmiTest, VnpuLifecycleAndQueries) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "vNPU creation requires root, as on real hosts";
  }
  dcmi_create_vdev_res_stru req{};
  req.vdev_id = DCMI_VDEV_INVALID_ID;
  req.vfg_id = DCMI_VDEV_INVALID_ID;
  std::strcpy(req.template_name, "vir05_1c_16g");
  dcmi_create_vdev_out out{};
  ASSERT_EQ(dcmi_create_vdevice(0, 0, &req, &out), DCMI_OK);
  EXPECT_EQ(out.vdev_id, 100u);
  dcmi_soc_total_resource total{};
  unsigned size = sizeof(total);
  ASSERT_EQ(dcmi_get_device_info(0, 0, DCMI_MAIN_CMD_VDEV_MNG, 1, &total, &size), DCMI_OK);
  ASSERT_EQ(total.vdev_num, 1u);
  EXPECT_EQ(total.vdev_id[0], 100u);
  dcmi_soc_free_resource free{};
  size = sizeof(free);
  ASSERT_EQ(dcmi_get_device_info(0, 0, DCMI_MAIN_CMD_VDEV_MNG, 2, &free, &size), DCMI_OK);
  EXPECT_FLOAT_EQ(free.computing.aic, 15.0f);
  dcmi_vdev_query_stru q{};
  q.vdev_id = 100;
  size = sizeof(q);
  ASSERT_EQ(dcmi_get_device_info(0, 0, DCMI_MAIN_CMD_VDEV_MNG, 0, &q, &size), DCMI_OK);
  EXPECT_STREQ(q.query_info.name, "vir05_1c_16g");
  EXPECT_EQ(q.query_info.computing.vdev_memory_total, 15360u);
  EXPECT_EQ(q.query_info.is_container_used, 0u);
  std::strcpy(req.template_name, "vir_bogus");
  EXPECT_EQ(dcmi_create_vdevice(0, 0, &req, &out), DCMI_ERR_CODE_INVALID_PARAMETER);
  std::strcpy(req.template_name, "vir10_3c_32g");
  EXPECT_EQ(dcmi_create_vdevice(40, 0, &req, &out), DCMI_ERR_CODE_NOT_SUPPORT);
  EXPECT_EQ(dcmi_get_device_info(40, 0, DCMI_MAIN_CMD_VDEV_MNG, 1, &total, &size),
            DCMI_ERR_CODE_NOT_SUPPORT);
  EXPECT_EQ(dcmi_set_destroy_vdevice(0, 0, 100), DCMI_OK);
  EXPECT_EQ(dcmi_set_destroy_vdevice(0, 0, 100), DCMI_ERR_CODE_INVALID_PARAMETER);
}

}  // namespace
