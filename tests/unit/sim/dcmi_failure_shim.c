/* Preloaded into npu-smi by npu_smi_dcmi_failure_test.cc: makes the per-chip health and
 * temperature queries and the board query fail, as a driver that cannot read them would. */
#include "dcmi_interface_api.h"

int dcmi_get_device_health(int card_id, int device_id, unsigned int* health) {
  (void)card_id;
  (void)device_id;
  (void)health;
  return DCMI_ERR_CODE_INNER_ERR;
}

int dcmi_get_device_temperature(int card_id, int device_id, int* temperature) {
  (void)card_id;
  (void)device_id;
  (void)temperature;
  return DCMI_ERR_CODE_INNER_ERR;
}

int dcmi_get_device_board_info(int card_id, int device_id, struct dcmi_board_info* board_info) {
  (void)card_id;
  (void)device_id;
  (void)board_info;
  return DCMI_ERR_CODE_INNER_ERR;
}
