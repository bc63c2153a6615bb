#include "hami/types.h"

namespace npushare::hami {

std::string NodeRegisterKey(const std::string& cw) {
  return kNodeRegisterPrefix + cw;
}
std::string NodeHandshakeKey(const std::string& cw) {
  return kNodeHandshakePrefix + cw;
}
std::string DevicesToAllocateKey(const std::string& cw) {
  return "hami.io/" + cw + "-devices-to-allocate";
}
std::string DevicesAllocatedKey(const std::string& cw) {
  return "hami.io/" + cw + "-devices-allocated";
}
std::string RuntimeInfoKey(const std::string& cw) {
  return "huawei.com/" + cw;
}
std::string UseUuidKey(const std::string& cw) {
  return "hami.io/use-" + cw + "-uuid";
}
std::string NoUseUuidKey(const std::string& cw) {
  return "hami.io/no-use-" + cw + "-uuid";
}

}  // namespace npushare::hami
