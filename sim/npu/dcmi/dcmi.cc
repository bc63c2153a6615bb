// libdcmi.so of npu-sim: the DCMI C ABI (include/dcmi_interface_api.h) over the shared state.
//
// Every exported function is noexcept in effect: its body runs inside Entry(), which turns any
// C++ exception into DCMI_ERR_CODE_INNER_ERR so none crosses the C boundary. Out-parameters are
// written only on success. Id conventions: card ids are the node's (possibly sparse) NPU IDs;
// logic ids number the chips this process can see (ASCEND_VISIBLE_DEVICES) from 0; physical
// ids are the node-wide chip index. Bad pointers or negative ids -> -8001; well-formed ids that
// do not name a visible chip -> -8008.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "dcmi_interface_api.h"
#include "state/chip_models.h"
#include "state/shared_state.h"
#include "state/visibility.h"
#include "state/vnpu.h"

namespace npushare::sim {
namespace {

struct DcmiContext {
  std::unique_ptr<SharedState> state;
  std::vector<uint32_t> chips;  // logic id -> chip index
};

std::atomic<DcmiContext*> g_ctx{nullptr};
pthread_mutex_t g_init_mu = PTHREAD_MUTEX_INITIALIZER;
std::atomic<unsigned int> g_recover_mode{0};

template <typename F>
int Entry(F&& f) {
  try {
    DcmiContext* ctx = g_ctx.load(std::memory_order_acquire);
    if (ctx == nullptr) {
      return DCMI_ERR_CODE_NOT_REDAY;
    }
    return f(*ctx);
  } catch (...) {
    return DCMI_ERR_CODE_INNER_ERR;
  }
}

int Init() {
  try {
    pthread_mutex_lock(&g_init_mu);
    int rc = DCMI_OK;
    if (g_ctx.load() == nullptr) {
      auto state = SharedState::OpenDefault();
      if (!state.ok()) {
        std::fprintf(stderr, "dcmi (npu-sim): %s\n", state.status().ToString().c_str());
        rc = DCMI_ERR_CODE_DEVICE_NOT_EXIST;
      } else {
        auto ctx = std::make_unique<DcmiContext>();
        ctx->state = std::move(*state);
        StateLock lock(*ctx->state);
        auto visible = ResolveVisibleDevices(
            lock->chip_count, /*apply_rt_visible=*/false,
            [&](uint32_t id, uint32_t* chip) { return FindVnpu(*lock, id, chip) != nullptr; });
        if (!visible.ok()) {
          rc = DCMI_ERR_CODE_INVALID_PARAMETER;
        } else {
          for (const auto& d : *visible) {
            bool dup = false;
            for (uint32_t c : ctx->chips) {
              dup = dup || c == d.chip;
            }
            if (!dup) {
              ctx->chips.push_back(d.chip);
            }
          }
          // Leaked on purpose: other threads may hold the pointer until process exit.
          g_ctx.store(ctx.release(), std::memory_order_release);
        }
      }
    }
    pthread_mutex_unlock(&g_init_mu);
    return rc;
  } catch (...) {
    pthread_mutex_unlock(&g_init_mu);
    return DCMI_ERR_CODE_INNER_ERR;
  }
}

// ChipOf: the chip index of (card, device) if visible.
int ChipOf(const DcmiContext& ctx, int card_id, int device_id, uint32_t* chip) {
  if (card_id < 0 || device_id < 0) {
    return DCMI_ERR_CODE_INVALID_PARAMETER;
  }
  const NpuSimState& s = ctx.state->Unlocked();
  for (uint32_t c : ctx.chips) {
    if (s.chips[c].card_id == static_cast<uint32_t>(card_id) &&
        s.chips[c].device_index == static_cast<uint32_t>(device_id)) {
      *chip = c;
      return DCMI_OK;
    }
  }
  return DCMI_ERR_CODE_DEVICE_NOT_EXIST;
}

int LogicOf(const DcmiContext& ctx, uint32_t chip, uint32_t* logic) {
  for (uint32_t i = 0; i < ctx.chips.size(); ++i) {
    if (ctx.chips[i] == chip) {
      *logic = i;
      return DCMI_OK;
    }
  }
  return DCMI_ERR_CODE_DEVICE_NOT_EXIST;
}

const ChipModel& ModelOf(const DcmiContext& ctx, uint32_t chip) {
  return AllChipModels()[ctx.state->Unlocked().chips[chip].model_index];
}

void CopyName(unsigned char* dst, std::string_view src) {
  std::memset(dst, 0, MAX_CHIP_NAME_LEN);
  std::memcpy(dst, src.data(), src.size() < MAX_CHIP_NAME_LEN ? src.size() : MAX_CHIP_NAME_LEN - 1);
}

bool IsRoot() {
  return geteuid() == 0;
}

int CardList(int* card_num, int* card_list, int list_len) {
  return Entry([&](DcmiContext& ctx) {
    if (card_num == nullptr || card_list == nullptr || list_len <= 0) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    std::vector<int> cards;
    for (uint32_t c : ctx.chips) {
      int id = static_cast<int>(ctx.state->Unlocked().chips[c].card_id);
      bool seen = false;
      for (int x : cards) {
        seen = seen || x == id;
      }
      if (!seen) {
        cards.push_back(id);
      }
    }
    if (cards.size() > static_cast<size_t>(list_len)) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    for (size_t i = 0; i < cards.size(); ++i) {
      card_list[i] = cards[i];
    }
    *card_num = static_cast<int>(cards.size());
    return DCMI_OK;
  });
}

void FillComputing(dcmi_computing_resource* c, uint32_t aicore, uint64_t memory_mb,
                   uint32_t aicpu) {
  std::memset(c, 0, sizeof(*c));
  c->aic = static_cast<float>(aicore);
  c->aiv = static_cast<float>(aicore * 2);
  c->memory_size = memory_mb;
  c->device_aicpu = static_cast<unsigned short>(aicpu);
  c->topic_schedule_aicpu = static_cast<unsigned short>(aicpu);
}

void FillMedia(dcmi_media_resource* m, uint32_t vpc, uint32_t venc, uint32_t vdec, uint32_t jpegd,
               uint32_t jpege) {
  std::memset(m, 0, sizeof(*m));
  m->vpc = static_cast<float>(vpc);
  m->venc = static_cast<float>(venc);
  m->vdec = static_cast<float>(vdec);
  m->jpegd = static_cast<float>(jpegd);
  m->jpege = static_cast<float>(jpege);
  m->pngd = -1.0f;  // NA, as npu-smi prints for 910B
}

void FillBase(dcmi_base_resource* b) {
  std::memset(b, 0, sizeof(*b));
  b->vfg_id = 0xFFFFFFFFu;
}

// VnpuAttached: whether a live process has the vNPU open, i.e. its runtime charged memory to
// it (a process slot names the vNPU on that chip until the process exits). npu-sim's meaning of
// is_container_used: the real driver sets it while a container uses the vNPU; a container
// uses it through its processes. Dead processes are swept by the forced-sweep lock below.
bool VnpuAttached(const NpuSimState& state, uint32_t chip, uint32_t vnpu_id) {
  for (const auto& p : state.procs) {
    if (p.pid != 0 && p.vnpu_id[chip] == vnpu_id) {
      return true;
    }
  }
  return false;
}

int VdevInfo(DcmiContext& ctx, uint32_t chip, unsigned int sub_cmd, void* buf, unsigned int* size) {
  StateLock lock(*ctx.state, /*force_sweep=*/true);
  const NpuSimChip& c = lock->chips[chip];
  const ChipModel& m = AllChipModels()[c.model_index];
  if (m.templates.empty()) {
    return DCMI_ERR_CODE_NOT_SUPPORT;
  }
  switch (sub_cmd) {
    case DCMI_VMNG_SUB_CMD_GET_TOTAL_RESOURCE: {
      if (*size < sizeof(dcmi_soc_total_resource)) {
        return DCMI_ERR_CODE_INVALID_PARAMETER;
      }
      auto* t = static_cast<dcmi_soc_total_resource*>(buf);
      std::memset(t, 0, sizeof(*t));
      for (const auto& v : c.vnpus) {
        if (v.id != 0 && t->vdev_num < 32) {
          t->vdev_id[t->vdev_num++] = v.id;
        }
      }
      FillBase(&t->base);
      FillComputing(&t->computing, c.aicore, c.memory_mb, c.aicpu);
      FillMedia(&t->media, m.vpc, m.venc, m.vdec, m.jpegd, m.jpege);
      *size = sizeof(*t);
      return DCMI_OK;
    }
    case DCMI_VMNG_SUB_CMD_GET_FREE_RESOURCE: {
      if (*size < sizeof(dcmi_soc_free_resource)) {
        return DCMI_ERR_CODE_INVALID_PARAMETER;
      }
      auto* f = static_cast<dcmi_soc_free_resource*>(buf);
      std::memset(f, 0, sizeof(*f));
      ChipFreeResources fr = FreeResources(*lock, chip);
      uint32_t vpc = m.vpc, venc = m.venc, vdec = m.vdec, jpegd = m.jpegd, jpege = m.jpege;
      for (const auto& v : c.vnpus) {
        if (v.id != 0) {
          const VnpuTemplate& tpl = m.templates[v.template_index];
          vpc -= tpl.vpc < vpc ? tpl.vpc : vpc;
          venc -= tpl.venc < venc ? tpl.venc : venc;
          vdec -= tpl.vdec < vdec ? tpl.vdec : vdec;
          jpegd -= tpl.jpegd < jpegd ? tpl.jpegd : jpegd;
          jpege -= tpl.jpege < jpege ? tpl.jpege : jpege;
        }
      }
      FillBase(&f->base);
      FillComputing(&f->computing, fr.aicore, fr.memory_mb, fr.aicpu);
      FillMedia(&f->media, vpc, venc, vdec, jpegd, jpege);
      *size = sizeof(*f);
      return DCMI_OK;
    }
    case DCMI_VMNG_SUB_CMD_GET_VDEV_RESOURCE:
    case DCMI_VMNG_SUB_CMD_GET_VDEV_ACTIVITY: {
      if (*size < sizeof(dcmi_vdev_query_stru)) {
        return DCMI_ERR_CODE_INVALID_PARAMETER;
      }
      auto* q = static_cast<dcmi_vdev_query_stru*>(buf);
      for (const auto& v : c.vnpus) {
        if (v.id != 0 && v.id == q->vdev_id) {
          const VnpuTemplate& tpl = m.templates[v.template_index];
          dcmi_vdev_query_info& info = q->query_info;
          std::memset(&info, 0, sizeof(info));
          std::strncpy(info.name, std::string(tpl.name).c_str(), sizeof(info.name) - 1);
          info.status = v.status;
          info.is_container_used = VnpuAttached(*lock, chip, v.id) ? 1u : v.is_container_used;
          info.vfid = v.id - (100 + 16 * c.phy_id) + 1;
          info.vfg_id = v.vgroup;
          info.container_id = v.container_id;
          FillBase(&info.base);
          FillComputing(&info.computing, v.aicore, v.memory_mb, v.aicpu);
          uint64_t used_mb = ChipUsedBytes(*lock, chip, v.id) >> 20;
          info.computing.vdev_memory_total = v.memory_mb;
          info.computing.vdev_memory_free = used_mb > v.memory_mb ? 0 : v.memory_mb - used_mb;
          info.computing.vdev_aicore_utilization = 0;
          FillMedia(&info.media, tpl.vpc, tpl.venc, tpl.vdec, tpl.jpegd, tpl.jpege);
          *size = sizeof(*q);
          return DCMI_OK;
        }
      }
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    default:
      return DCMI_ERR_CODE_NOT_SUPPORT;
  }
}

int SetShare(DcmiContext& ctx, uint32_t chip, int flag) {
  if (flag != 0 && flag != 1) {
    return DCMI_ERR_CODE_INVALID_PARAMETER;
  }
  if (!IsRoot()) {
    return DCMI_ERR_CODE_OPER_NOT_PERMITTED;
  }
  StateLock lock(*ctx.state);
  NpuSimChip& c = lock->chips[chip];
  // 910C applies the setting per card: both dies change together.
  bool per_card = AllChipModels()[c.model_index].layout == SmiLayout::kHbm910C;
  for (uint32_t i = 0; i < lock->chip_count; ++i) {
    if (i == chip || (per_card && lock->chips[i].card_id == c.card_id)) {
      lock->chips[i].device_share = static_cast<uint32_t>(flag);
    }
  }
  return DCMI_OK;
}

// WithChip: the common shape of a per-chip call: initialised library, valid arguments
// (`args_ok`, e.g. non-null outputs; checked before the ids), a visible (card, device); then
// `body(ctx, chip)` runs. Returns the first failing check's DCMI code, else the body's code if
// it returns one, else DCMI_OK.
template <typename Body>
int WithChip(int card_id, int device_id, bool args_ok, Body&& body) {
  return Entry([&](DcmiContext& ctx) {
    if (!args_ok) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    uint32_t chip = 0;
    int rc = ChipOf(ctx, card_id, device_id, &chip);
    if (rc != DCMI_OK) {
      return rc;
    }
    if constexpr (std::is_void_v<std::invoke_result_t<Body&, DcmiContext&, uint32_t>>) {
      body(ctx, chip);
      return DCMI_OK;
    } else {
      return body(ctx, chip);
    }
  });
}

}  // namespace
}  // namespace npushare::sim

using npushare::sim::AllChipModels;
using npushare::sim::DcmiContext;
using npushare::sim::Entry;
using npushare::sim::StateLock;
using npushare::sim::WithChip;

extern "C" {

int dcmi_init(void) {
  return npushare::sim::Init();
}

int dcmi_get_card_list(int* card_num, int* card_list, int list_len) {
  return npushare::sim::CardList(card_num, card_list, list_len);
}

int dcmi_get_card_num_list(int* card_num, int* card_list, int list_len) {
  return npushare::sim::CardList(card_num, card_list, list_len);
}

int dcmi_get_device_num_in_card(int card_id, int* device_num) {
  return Entry([&](DcmiContext& ctx) {
    if (device_num == nullptr || card_id < 0) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    int n = 0;
    for (uint32_t c : ctx.chips) {
      n += ctx.state->Unlocked().chips[c].card_id == static_cast<uint32_t>(card_id) ? 1 : 0;
    }
    if (n == 0) {
      return DCMI_ERR_CODE_DEVICE_NOT_EXIST;
    }
    *device_num = n;
    return DCMI_OK;
  });
}

int dcmi_get_device_id_in_card(int card_id, int* device_id_max, int* mcu_id, int* cpu_id) {
  if (device_id_max == nullptr || mcu_id == nullptr || cpu_id == nullptr) {
    return Entry([](DcmiContext&) { return DCMI_ERR_CODE_INVALID_PARAMETER; });
  }
  int n = 0;
  int rc = dcmi_get_device_num_in_card(card_id, &n);
  if (rc != DCMI_OK) {
    return rc;
  }
  *device_id_max = n;
  *mcu_id = -1;
  *cpu_id = -1;
  return DCMI_OK;
}

int dcmi_get_device_type(int card_id, int device_id, enum dcmi_unit_type* device_type) {
  return WithChip(card_id, device_id, device_type != nullptr,
                  [&](DcmiContext&, uint32_t) { *device_type = NPU_TYPE; });
}

int dcmi_get_device_logic_id(int* device_logic_id, int card_id, int device_id) {
  const bool args_ok = device_logic_id != nullptr;
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    uint32_t logic = 0;
    int rc = npushare::sim::LogicOf(ctx, chip, &logic);
    if (rc == DCMI_OK) {
      *device_logic_id = static_cast<int>(logic);
    }
    return rc;
  });
}

int dcmi_get_device_phyid_from_logicid(unsigned int logicid, unsigned int* phyid) {
  return Entry([&](DcmiContext& ctx) {
    if (phyid == nullptr || logicid >= 256) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    if (logicid >= ctx.chips.size()) {
      return DCMI_ERR_CODE_DEVICE_NOT_EXIST;
    }
    *phyid = ctx.state->Unlocked().chips[ctx.chips[logicid]].phy_id;
    return DCMI_OK;
  });
}

int dcmi_get_device_logicid_from_phyid(unsigned int phyid, unsigned int* logicid) {
  return Entry([&](DcmiContext& ctx) {
    if (logicid == nullptr || phyid >= 256) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    uint32_t logic = 0;
    int rc = npushare::sim::LogicOf(ctx, phyid, &logic);
    if (rc == DCMI_OK) {
      *logicid = logic;
    }
    return rc;
  });
}

int dcmi_get_card_id_device_id_from_logicid(int* card_id, int* device_id,
                                            unsigned int device_logic_id) {
  return Entry([&](DcmiContext& ctx) {
    if (card_id == nullptr || device_id == nullptr || device_logic_id >= 256) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    if (device_logic_id >= ctx.chips.size()) {
      return DCMI_ERR_CODE_DEVICE_NOT_EXIST;
    }
    const NpuSimChip& c = ctx.state->Unlocked().chips[ctx.chips[device_logic_id]];
    *card_id = static_cast<int>(c.card_id);
    *device_id = static_cast<int>(c.device_index);
    return DCMI_OK;
  });
}

int dcmi_get_card_id_device_id_from_phyid(int* card_id, int* device_id,
                                          unsigned int device_phy_id) {
  unsigned int logic = 0;
  int rc = dcmi_get_device_logicid_from_phyid(device_phy_id, &logic);
  if (rc != DCMI_OK) {
    return rc;
  }
  return dcmi_get_card_id_device_id_from_logicid(card_id, device_id, logic);
}

int dcmi_get_device_chip_info_v2(int card_id, int device_id, struct dcmi_chip_info_v2* chip_info) {
  return WithChip(card_id, device_id, chip_info != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    const auto& m = npushare::sim::ModelOf(ctx, chip);
    npushare::sim::CopyName(chip_info->chip_type, m.chip_type);
    npushare::sim::CopyName(chip_info->chip_name, m.chip_name);
    npushare::sim::CopyName(chip_info->chip_ver, m.chip_ver);
    npushare::sim::CopyName(chip_info->npu_name, m.npu_name);
    chip_info->aicore_cnt = ctx.state->Unlocked().chips[chip].aicore;
  });
}

int dcmi_get_device_chip_info(int card_id, int device_id, struct dcmi_chip_info* chip_info) {
  if (chip_info == nullptr) {
    return Entry([](DcmiContext&) { return DCMI_ERR_CODE_INVALID_PARAMETER; });
  }
  dcmi_chip_info_v2 v2{};
  int rc = dcmi_get_device_chip_info_v2(card_id, device_id, &v2);
  if (rc == DCMI_OK) {
    std::memcpy(chip_info, &v2, sizeof(*chip_info));
  }
  return rc;
}

int dcmi_get_device_board_info(int card_id, int device_id, struct dcmi_board_info* board_info) {
  return WithChip(card_id, device_id, board_info != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    const NpuSimChip& c = ctx.state->Unlocked().chips[chip];
    board_info->board_id = c.board_id;
    board_info->pcb_id = 0xA;
    board_info->bom_id = 1;
    board_info->slot_id = c.card_id;
  });
}

int dcmi_get_device_pcie_info_v2(int card_id, int device_id, struct dcmi_pcie_info_all* pcie_info) {
  return WithChip(card_id, device_id, pcie_info != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    std::memset(pcie_info, 0, sizeof(*pcie_info));
    pcie_info->venderid = 0x19E5;
    pcie_info->subvenderid = 0x19E5;
    pcie_info->deviceid = npushare::sim::ModelOf(ctx, chip).pci_device_id;
    pcie_info->subdeviceid = 0x3003;
    pcie_info->bdf_busid = ctx.state->Unlocked().chips[chip].bus_id;
  });
}

int dcmi_get_product_type(int card_id, int device_id, char* product_type_str, int buf_size) {
  const bool args_ok = product_type_str != nullptr && buf_size > 0;
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    std::string name(npushare::sim::ModelOf(ctx, chip).product_name);
    if (name.size() + 1 > static_cast<size_t>(buf_size)) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    std::memcpy(product_type_str, name.c_str(), name.size() + 1);
    return DCMI_OK;
  });
}

static int CopyVersion(char* dst, size_t len, const char* src) {
  size_t n = std::strlen(src);
  if (dst == nullptr || n + 1 > len) {
    return DCMI_ERR_CODE_INVALID_PARAMETER;
  }
  std::memcpy(dst, src, n + 1);
  return DCMI_OK;
}

int dcmi_get_dcmi_version(char* dcmi_ver, int buf_size) {
  return Entry([&](DcmiContext& ctx) {
    return buf_size <= 0 ? DCMI_ERR_CODE_INVALID_PARAMETER
                         : CopyVersion(dcmi_ver, static_cast<size_t>(buf_size),
                                       ctx.state->Unlocked().driver_version);
  });
}

int dcmi_get_driver_version(char* driver_ver, unsigned int len) {
  return Entry([&](DcmiContext& ctx) {
    return CopyVersion(driver_ver, len, ctx.state->Unlocked().driver_version);
  });
}

int dcmi_get_mainboard_id(int card_id, int device_id, unsigned int* mainboard_id) {
  return WithChip(card_id, device_id, mainboard_id != nullptr,
                  [&](DcmiContext&, uint32_t) { *mainboard_id = 0x12; });
}

int dcmi_get_device_die_v2(int card_id, int device_id, enum dcmi_die_type input_type,
                           struct dcmi_die_id* die_id) {
  const bool args_ok = die_id != nullptr && (input_type == NDIE || input_type == VDIE);
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    const NpuSimChip& c = ctx.state->Unlocked().chips[chip];
    for (int i = 0; i < DIE_ID_COUNT; ++i) {
      // NDIE is derived from VDIE so both are stable and distinct.
      die_id->soc_die[i] = input_type == VDIE ? c.die_id[i] : c.die_id[i] ^ 0x5A5A5A5Au;
    }
  });
}

int dcmi_get_device_die(int card_id, int device_id, struct dcmi_soc_die_stru* device_die) {
  if (device_die == nullptr) {
    return Entry([](DcmiContext&) { return DCMI_ERR_CODE_INVALID_PARAMETER; });
  }
  dcmi_die_id d{};
  int rc = dcmi_get_device_die_v2(card_id, device_id, VDIE, &d);
  if (rc == DCMI_OK) {
    std::memcpy(device_die->soc_die, d.soc_die, sizeof(d.soc_die));
  }
  return rc;
}

int dcmi_get_device_health(int card_id, int device_id, unsigned int* health) {
  return WithChip(card_id, device_id, health != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    StateLock lock(*ctx.state);
    npushare::sim::ApplyHealthRecovery(*lock, npushare::sim::MonotonicNs());
    *health = lock->chips[chip].health;
  });
}

int dcmi_get_device_errorcode_v2(int card_id, int device_id, int* error_count,
                                 unsigned int* error_code_list, unsigned int list_len) {
  const bool args_ok = error_count != nullptr && (error_code_list != nullptr || list_len == 0);
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    StateLock lock(*ctx.state);
    npushare::sim::ApplyHealthRecovery(*lock, npushare::sim::MonotonicNs());
    const NpuSimChip& c = lock->chips[chip];
    uint32_t n = c.error_count < list_len ? c.error_count : list_len;
    for (uint32_t i = 0; i < n; ++i) {
      error_code_list[i] = c.error_codes[i];
    }
    *error_count = static_cast<int>(n);
  });
}

int dcmi_get_device_errorcode(int card_id, int device_id, int* error_count,
                              unsigned int* error_code, int* error_width) {
  if (error_width == nullptr) {
    return Entry([](DcmiContext&) { return DCMI_ERR_CODE_INVALID_PARAMETER; });
  }
  // The v1 call takes no capacity; callers pass an array of at least 128 (MaxErrorCodeCount).
  int rc = dcmi_get_device_errorcode_v2(card_id, device_id, error_count, error_code,
                                        NPUSIM_MAX_ERROR_CODES);
  if (rc == DCMI_OK) {
    *error_width = static_cast<int>(sizeof(unsigned int));
  }
  return rc;
}

int dcmi_get_device_temperature(int card_id, int device_id, int* temperature) {
  return WithChip(card_id, device_id, temperature != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    *temperature = ctx.state->Unlocked().chips[chip].temperature_c;
  });
}

int dcmi_get_device_power_info(int card_id, int device_id, int* power) {
  return WithChip(card_id, device_id, power != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    *power = static_cast<int>(ctx.state->Unlocked().chips[chip].power_dw);  // 0.1 W units
  });
}

int dcmi_get_device_utilization_rate(int card_id, int device_id, int input_type,
                                     unsigned int* utilization_rate) {
  const bool args_ok = utilization_rate != nullptr;
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    StateLock lock(*ctx.state, /*force_sweep=*/true);
    const NpuSimChip& c = lock->chips[chip];
    switch (input_type) {
      case 1:
      case 6: {
        uint64_t used = (npushare::sim::ChipUsedBytes(*lock, chip) >> 20) + c.reserved_mb;
        *utilization_rate = static_cast<unsigned int>(used * 100 / c.memory_mb);
        return DCMI_OK;
      }
      case 2:
      case 13:
        *utilization_rate =
            npushare::sim::ChipUtilizationPercent(*lock, chip, npushare::sim::MonotonicNs());
        return DCMI_OK;
      case 3:
      case 4:
      case 5:
      case 10:
        *utilization_rate = 0;
        return DCMI_OK;
      default:
        return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
  });
}

int dcmi_get_device_memory_info_v3(int card_id, int device_id,
                                   struct dcmi_get_memory_info_stru* memory_info) {
  return WithChip(card_id, device_id, memory_info != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    StateLock lock(*ctx.state, /*force_sweep=*/true);
    const NpuSimChip& c = lock->chips[chip];
    std::memset(memory_info, 0, sizeof(*memory_info));
    uint64_t used = (npushare::sim::ChipUsedBytes(*lock, chip) >> 20) + c.reserved_mb;
    if (used > c.memory_mb) {
      used = c.memory_mb;
    }
    memory_info->memory_size = c.memory_mb;
    memory_info->memory_available = c.memory_mb - used;
    memory_info->freq = 1600;
    memory_info->hugepagesize = 2048;
    memory_info->utiliza = static_cast<unsigned int>(used * 100 / c.memory_mb);
    return DCMI_OK;
  });
}

int dcmi_get_memory_info(int card_id, int device_id,
                         struct dcmi_memory_info_stru* device_memory_info) {
  if (device_memory_info == nullptr) {
    return Entry([](DcmiContext&) { return DCMI_ERR_CODE_INVALID_PARAMETER; });
  }
  dcmi_get_memory_info_stru v3{};
  int rc = dcmi_get_device_memory_info_v3(card_id, device_id, &v3);
  if (rc == DCMI_OK) {
    device_memory_info->memory_size = v3.memory_size;
    device_memory_info->freq = v3.freq;
    device_memory_info->utiliza = v3.utiliza;
  }
  return rc;
}

int dcmi_get_device_hbm_info(int card_id, int device_id, struct dcmi_hbm_info* hbm_info) {
  return WithChip(card_id, device_id, hbm_info != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    if (npushare::sim::ModelOf(ctx, chip).layout == npushare::sim::SmiLayout::kDdr310P) {
      return DCMI_ERR_CODE_NOT_SUPPORT;  // 310P has DDR, no HBM
    }
    StateLock lock(*ctx.state, /*force_sweep=*/true);
    const NpuSimChip& c = lock->chips[chip];
    uint64_t used = (npushare::sim::ChipUsedBytes(*lock, chip) >> 20) + c.reserved_mb;
    std::memset(hbm_info, 0, sizeof(*hbm_info));
    hbm_info->memory_size = c.memory_mb;
    hbm_info->freq = 1600;
    hbm_info->memory_usage = used > c.memory_mb ? c.memory_mb : used;
    hbm_info->temp = c.temperature_c;
    return DCMI_OK;
  });
}

int dcmi_get_device_resource_info(int card_id, int device_id, struct dcmi_proc_mem_info* proc_info,
                                  int* proc_num) {
  const bool args_ok = proc_info != nullptr && proc_num != nullptr;
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    StateLock lock(*ctx.state, /*force_sweep=*/true);
    int n = 0;
    for (const auto& p : lock->procs) {
      if (p.pid != 0 && p.used_bytes[chip] > 0 && n < MAX_PROC_NUM_IN_DEVICE) {
        proc_info[n].proc_id = p.pid;
        proc_info[n].proc_mem_usage = p.used_bytes[chip];
        ++n;
      }
    }
    *proc_num = n;
    return DCMI_OK;
  });
}

int dcmi_set_device_share_enable(int card_id, int device_id, int enable_flag) {
  return WithChip(card_id, device_id, /*args_ok=*/true, [&](DcmiContext& ctx, uint32_t chip) {
    return npushare::sim::SetShare(ctx, chip, enable_flag);
  });
}

int dcmi_get_device_share_enable(int card_id, int device_id, int* enable_flag) {
  return WithChip(card_id, device_id, enable_flag != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    StateLock lock(*ctx.state);
    *enable_flag = static_cast<int>(lock->chips[chip].device_share);
  });
}

int dcmi_set_device_share_config_recover_mode(unsigned int enable_flag) {
  return Entry([&](DcmiContext&) {
    if (enable_flag > 1) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    if (!npushare::sim::IsRoot()) {
      return DCMI_ERR_CODE_OPER_NOT_PERMITTED;
    }
    npushare::sim::g_recover_mode.store(enable_flag);
    return DCMI_OK;
  });
}

int dcmi_get_device_share_config_recover_mode(unsigned int* enable_flag) {
  return Entry([&](DcmiContext&) {
    if (enable_flag == nullptr) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    *enable_flag = npushare::sim::g_recover_mode.load();
    return DCMI_OK;
  });
}

int dcmi_get_device_info(int card_id, int device_id, enum dcmi_main_cmd main_cmd,
                         unsigned int sub_cmd, void* buf, unsigned int* size) {
  const bool args_ok = buf != nullptr && size != nullptr;
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    switch (main_cmd) {
      case DCMI_MAIN_CMD_VDEV_MNG:
        return npushare::sim::VdevInfo(ctx, chip, sub_cmd, buf, size);
      case DCMI_MAIN_CMD_DEVICE_SHARE: {
        if (*size < sizeof(int)) {
          return DCMI_ERR_CODE_INVALID_PARAMETER;
        }
        StateLock lock(*ctx.state);
        int flag = static_cast<int>(lock->chips[chip].device_share);
        std::memcpy(buf, &flag, sizeof(flag));
        *size = sizeof(int);
        return DCMI_OK;
      }
      default:
        return DCMI_ERR_CODE_NOT_SUPPORT;
    }
  });
}

int dcmi_set_device_info(int card_id, int device_id, enum dcmi_main_cmd main_cmd,
                         unsigned int sub_cmd, const void* buf, unsigned int buf_size) {
  return WithChip(card_id, device_id, buf != nullptr, [&](DcmiContext& ctx, uint32_t chip) {
    if (main_cmd != DCMI_MAIN_CMD_DEVICE_SHARE || sub_cmd != DCMI_DEVICE_SHARE_SUB_CMD_COMMON) {
      return DCMI_ERR_CODE_NOT_SUPPORT;
    }
    if (buf_size != sizeof(int)) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    int flag = 0;
    std::memcpy(&flag, buf, sizeof(flag));
    return npushare::sim::SetShare(ctx, chip, flag);
  });
}

int dcmi_create_vdevice(int card_id, int device_id, struct dcmi_create_vdev_res_stru* vdev,
                        struct dcmi_create_vdev_out* out) {
  const bool args_ok = vdev != nullptr && out != nullptr;
  return WithChip(card_id, device_id, args_ok, [&](DcmiContext& ctx, uint32_t chip) {
    if (npushare::sim::ModelOf(ctx, chip).templates.empty()) {
      return DCMI_ERR_CODE_NOT_SUPPORT;
    }
    if (!npushare::sim::IsRoot()) {
      return DCMI_ERR_CODE_OPER_NOT_PERMITTED;
    }
    size_t len = strnlen(vdev->template_name, sizeof(vdev->template_name));
    if (len == 0 || len == sizeof(vdev->template_name)) {
      return DCMI_ERR_CODE_INVALID_PARAMETER;
    }
    StateLock lock(*ctx.state);
    uint32_t vgroup = vdev->vfg_id == 0xFFFFFFFFu ? 0 : vdev->vfg_id;
    auto id = npushare::sim::CreateVnpu(*lock, chip, std::string_view(vdev->template_name, len),
                                        vdev->vdev_id, vgroup);
    if (!id.ok()) {
      return npushare::sim::DcmiCodeFor(id.status());
    }
    std::memset(out, 0, sizeof(*out));
    out->vdev_id = *id;
    out->vfg_id = vgroup;
    out->pcie_bus = lock->chips[chip].bus_id;
    return DCMI_OK;
  });
}

int dcmi_set_destroy_vdevice(int card_id, int device_id, unsigned int vdevid) {
  return WithChip(card_id, device_id, /*args_ok=*/true, [&](DcmiContext& ctx, uint32_t chip) {
    if (!npushare::sim::IsRoot()) {
      return DCMI_ERR_CODE_OPER_NOT_PERMITTED;
    }
    StateLock lock(*ctx.state, /*force_sweep=*/true);
    return npushare::sim::DcmiCodeFor(npushare::sim::DestroyVnpu(*lock, chip, vdevid));
  });
}

}  // extern "C"
