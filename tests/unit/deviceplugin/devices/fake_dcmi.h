// File: unit/deviceplugin/devices/fake_dcmi.h
//
// FakeDcmi: an in-memory Dcmi (src/deviceplugin/devices/dcmi.h) for unit tests: chips with
// settable health, vNPUs with settable is_container_used, and injectable errors.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "deviceplugin/devices/dcmi.h"

namespace npushare::deviceplugin::devices::testing {

struct FakeChip {
  int32_t card = 0;
  int32_t device = 0;
  int32_t logic = 0;
  int32_t phys = 0;
  std::string type = "Ascend";
  std::string name = "910B3";
  DcmiDieId die{};
  uint32_t health = 0;
  std::vector<DcmiVnpuInfo> vnpus;
};

class FakeDcmi final : public Dcmi {
 public:
  // AddChips: `n` chips of `name`, one per card, card ids 0..n-1, phys == logic == index,
  // die words derived from the index (word 0 below 0x10000000 to exercise zero padding).
  void AddChips(int n, const std::string& name = "910B3") {
    std::lock_guard<std::mutex> l(mu_);
    for (int i = 0; i < n; ++i) {
      FakeChip c;
      c.card = i;
      c.logic = c.phys = static_cast<int32_t>(chips_.size());
      c.name = name;
      c.die = {0x0000ABCDu + static_cast<uint32_t>(i), 0x12345678u, 0x9ABCDEF0u, 0x0u,
               0xFFFFFFFFu - static_cast<uint32_t>(i)};
      chips_.push_back(c);
    }
  }
  void AddChip(const FakeChip& c) {
    std::lock_guard<std::mutex> l(mu_);
    chips_.push_back(c);
  }
  void SetHealth(size_t chip, uint32_t h) {
    std::lock_guard<std::mutex> l(mu_);
    chips_.at(chip).health = h;
  }
  void AddVnpu(size_t chip, uint32_t id, const std::string& tpl, uint32_t used) {
    std::lock_guard<std::mutex> l(mu_);
    chips_.at(chip).vnpus.push_back({id, tpl, 0, used, 0});
  }
  void SetVnpuUsed(uint32_t id, uint32_t used) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& c : chips_) {
      for (auto& v : c.vnpus) {
        if (v.vdev_id == id) {
          v.is_container_used = used;
        }
      }
    }
  }
  bool HasVnpu(uint32_t id) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& c : chips_) {
      for (auto& v : c.vnpus) {
        if (v.vdev_id == id) {
          return true;
        }
      }
    }
    return false;
  }
  void FailInit(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    init_status_ = std::move(s);
  }
  void FailHealth(bool fail) {
    std::lock_guard<std::mutex> l(mu_);
    fail_health_ = fail;
  }
  void FailVnpuIds(bool fail) {
    std::lock_guard<std::mutex> l(mu_);
    fail_vnpu_ids_ = fail;
  }
  int health_calls() {
    std::lock_guard<std::mutex> l(mu_);
    return health_calls_;
  }

  Status Init() override {
    std::lock_guard<std::mutex> l(mu_);
    return init_status_;
  }
  Result<std::vector<int32_t>> CardList() override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<int32_t> cards;
    for (const auto& c : chips_) {
      if (cards.empty() || cards.back() != c.card) {
        cards.push_back(c.card);
      }
    }
    return cards;
  }
  Result<int32_t> DeviceCountInCard(int32_t card) override {
    std::lock_guard<std::mutex> l(mu_);
    int32_t n = 0;
    for (const auto& c : chips_) {
      n += c.card == card ? 1 : 0;
    }
    return n;
  }
  Result<int32_t> LogicId(int32_t card, int32_t dev) override {
    std::lock_guard<std::mutex> l(mu_);
    const FakeChip* c = Find(card, dev);
    if (c == nullptr) {
      return NotFoundError("no chip");
    }
    return c->logic;
  }
  Result<int32_t> PhysIdFromLogicId(int32_t logic) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& c : chips_) {
      if (c.logic == logic) {
        return c.phys;
      }
    }
    return NotFoundError("no logic id");
  }
  Result<DcmiChipInfo> ChipInfo(int32_t card, int32_t dev) override {
    std::lock_guard<std::mutex> l(mu_);
    const FakeChip* c = Find(card, dev);
    if (c == nullptr) {
      return NotFoundError("no chip");
    }
    return DcmiChipInfo{c->type, c->name, "V1", 20};
  }
  Result<DcmiDieId> DieId(int32_t card, int32_t dev) override {
    std::lock_guard<std::mutex> l(mu_);
    const FakeChip* c = Find(card, dev);
    if (c == nullptr) {
      return NotFoundError("no chip");
    }
    return c->die;
  }
  Result<uint32_t> Health(int32_t card, int32_t dev) override {
    std::lock_guard<std::mutex> l(mu_);
    ++health_calls_;
    const FakeChip* c = Find(card, dev);
    if (c == nullptr || fail_health_) {
      return UnavailableError("health failed");
    }
    return c->health;
  }
  Result<std::vector<uint32_t>> VnpuIds(int32_t card, int32_t dev) override {
    std::lock_guard<std::mutex> l(mu_);
    const FakeChip* c = Find(card, dev);
    if (c == nullptr || fail_vnpu_ids_) {
      return UnavailableError("vnpu ids failed");
    }
    std::vector<uint32_t> ids;
    for (const auto& v : c->vnpus) {
      ids.push_back(v.vdev_id);
    }
    return ids;
  }
  Result<DcmiVnpuInfo> VnpuInfo(int32_t card, int32_t dev, uint32_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    const FakeChip* c = Find(card, dev);
    for (const auto& v : c != nullptr ? c->vnpus : std::vector<DcmiVnpuInfo>{}) {
      if (v.vdev_id == id) {
        return v;
      }
    }
    return InvalidArgumentError("no vnpu");
  }
  Status DestroyVnpu(int32_t card, int32_t dev, uint32_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    FakeChip* c = Find(card, dev);
    if (c == nullptr) {
      return NotFoundError("no chip");
    }
    for (auto it = c->vnpus.begin(); it != c->vnpus.end(); ++it) {
      if (it->vdev_id == id) {
        destroyed_.push_back(id);
        c->vnpus.erase(it);
        return OkStatus();
      }
    }
    return InvalidArgumentError("no vnpu");
  }
  std::vector<uint32_t> destroyed() {
    std::lock_guard<std::mutex> l(mu_);
    return destroyed_;
  }

 private:
  FakeChip* Find(int32_t card, int32_t dev) {
    for (auto& c : chips_) {
      if (c.card == card && c.device == dev) {
        return &c;
      }
    }
    return nullptr;
  }

  std::mutex mu_;
  std::vector<FakeChip> chips_;
  Status init_status_;
  bool fail_health_ = false;
  bool fail_vnpu_ids_ = false;
  int health_calls_ = 0;
  std::vector<uint32_t> destroyed_;
};

}  // namespace npushare::deviceplugin::devices::testing
