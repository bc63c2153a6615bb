// npu-smi of npu-sim: the subcommands and output formats of the real tool (ascend-abi.md §2),
// implemented purely on top of libdcmi.so like the real one, so it exercises the DCMI ABI.
//
// Exit status: 0 on success; otherwise the npu-smi code (-9000 - n, DCMI -80xx mapped to
// -90xx) truncated by exit() to 0..255, e.g. 215 invalid parameter, 200 prompt refused, 217 not
// supported. A failing dcmi_init exits with its raw DCMI code, as the real tool does.
//
// Every DCMI result is checked: a query that fails for one field prints "NA" in that field
// (as the real tool does for what it cannot read), one that fails for the whole command
// (listing the NPUs, reading a board) exits with its code and says so on stderr.
#include <unistd.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "dcmi_interface_api.h"

namespace {

constexpr int kErrInvalidParam = -9001;
constexpr int kErrInner = -9005;
constexpr int kErrAbort = -9016;
constexpr int kErrNotSupport = -9255;

int ToNpuCode(int dcmi_rc) {
  if (dcmi_rc == 0) {
    return 0;
  }
  if ((dcmi_rc <= -8001 && dcmi_rc >= -8023) || dcmi_rc == -8255) {
    return dcmi_rc - 1000;
  }
  return kErrInner;
}

// DcmiFailed: reports a DCMI call that failed the whole command on stderr; returns the npu-smi
// exit code for it.
int DcmiFailed(const char* what, int dcmi_rc) {
  std::fprintf(stderr, "npu-smi: %s failed (dcmi error %d)\n", what, dcmi_rc);
  return ToNpuCode(dcmi_rc);
}

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

// Pad: left-justify `s` in `width` columns (never truncates, as printf's %-Ns).
std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

void KeyValue(const std::string& key, const std::string& value) {
  std::printf("\t%s : %s\n", Pad(key, 30).c_str(), value.c_str());
}

struct Chip {
  int card;
  int device;
  unsigned logic;
  unsigned phy;
};

struct Card {
  int id;
  std::vector<Chip> chips;
};

int ListCards(std::vector<Card>* cards) {
  int num = 0;
  int list[64];
  int rc = dcmi_get_card_list(&num, list, 64);
  if (rc != 0) {
    return rc;
  }
  for (int i = 0; i < num; ++i) {
    Card card{list[i], {}};
    int n = 0;
    rc = dcmi_get_device_num_in_card(list[i], &n);
    if (rc != 0) {
      return rc;
    }
    for (int d = 0; d < n; ++d) {
      Chip chip{list[i], d, 0, 0};
      int logic = 0;
      rc = dcmi_get_device_logic_id(&logic, list[i], d);
      if (rc != 0) {
        return rc;
      }
      chip.logic = static_cast<unsigned>(logic);
      rc = dcmi_get_device_phyid_from_logicid(chip.logic, &chip.phy);
      if (rc != 0) {
        return rc;
      }
      card.chips.push_back(chip);
    }
    cards->push_back(card);
  }
  return 0;
}

std::string ChipName(int card, int dev, std::string* type, std::string* npu_name) {
  dcmi_chip_info_v2 info{};
  if (dcmi_get_device_chip_info_v2(card, dev, &info) != 0) {
    return "NA";
  }
  if (type != nullptr) {
    *type = reinterpret_cast<const char*>(info.chip_type);
  }
  if (npu_name != nullptr) {
    *npu_name = reinterpret_cast<const char*>(info.npu_name);
  }
  return reinterpret_cast<const char*>(info.chip_name);
}

const char* HealthWord(unsigned h) {
  switch (h) {
    case 0:
      return "OK";
    case 1:
      return "Warning";
    case 2:
      return "Alarm";
    case 3:
      return "Critical";
    default:
      return "UNKNOWN";
  }
}

std::string BusId(int card, int dev) {
  dcmi_pcie_info_all p{};
  if (dcmi_get_device_pcie_info_v2(card, dev, &p) != 0) {
    return "NA";
  }
  return Fmt("%04X:%02X:%02X.%X", static_cast<unsigned>(p.domain), p.bdf_busid, p.bdf_deviceid,
             p.bdf_funcid);
}

std::string ProcName(int pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/comm", pid);
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) {
    return "NA";
  }
  char buf[64] = {0};
  if (std::fgets(buf, sizeof(buf), f) == nullptr) {
    buf[0] = '\0';
  }
  std::fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

// ---- npu-smi info (table) ----

// TableLayout: the frame of the `npu-smi info` summary table. The 310 (DDR) and 910 (HBM)
// products differ in the widths of the three framed columns, the title padding and the
// process header; the process rows are cut to fit the frame.
struct TableLayout {
  size_t npu_w;
  size_t health_w;
  size_t usage_w;
  size_t version_w;  // padding of the first version string in the title
  const char* proc_header;

  // Inner: the width between the outer '+' of a rule.
  size_t Inner() const { return npu_w + health_w + usage_w + 2; }
  std::string Rule(char c) const {
    return "+" + std::string(npu_w, c) + "+" + std::string(health_w, c) + "+" +
           std::string(usage_w, c) + "+";
  }
};

const TableLayout kDdrLayout{
    31, 17, 54, 40,
    "| NPU     Chip                  | Process id      | Process name             | Process "
    "memory(MB)        |"};
const TableLayout kHbmLayout{
    27, 15, 52, 24,
    "| NPU     Chip              | Process id    | Process name             | Process "
    "memory(MB)      |"};

// ChipReadings: the per-chip fields both table layouts print, "NA" where DCMI failed.
struct ChipReadings {
  std::string health;
  std::string temp;
  std::string util;
};

ChipReadings ReadChip(const Chip& c) {
  ChipReadings r;
  unsigned health = 0;
  r.health = dcmi_get_device_health(c.card, c.device, &health) == 0 ? HealthWord(health) : "NA";
  int temp = 0;
  r.temp = dcmi_get_device_temperature(c.card, c.device, &temp) == 0 ? std::to_string(temp) : "NA";
  unsigned util = 0;
  r.util = dcmi_get_device_utilization_rate(c.card, c.device, 2, &util) == 0 ? std::to_string(util)
                                                                             : "NA";
  return r;
}

void PrintDdrChips(const std::vector<Card>& cards, const TableLayout& l) {
  const std::string eq = l.Rule('=');
  std::printf(
      "| NPU     Name                  | Health          | Power(W)     Temp(C)           "
      "Hugepages-Usage(page) |\n"
      "| Chip    Device                | Bus-Id          | AICore(%%)    Memory-Usage(MB)   "
      "                     |\n%s\n",
      eq.c_str());
  for (const Card& card : cards) {
    for (const Chip& c : card.chips) {
      const ChipReadings r = ReadChip(c);
      std::printf("| %s %s| %s | %s %s %s/ %s |\n", Pad(std::to_string(c.card), 7).c_str(),
                  Pad(ChipName(c.card, c.device, nullptr, nullptr), 22).c_str(),
                  Pad(r.health, 15).c_str(), Pad("NA", 12).c_str(), Pad(r.temp, 17).c_str(),
                  Pad("0", 6).c_str(), Pad("0", 13).c_str());
      dcmi_get_memory_info_stru mem{};
      const bool mem_ok = dcmi_get_device_memory_info_v3(c.card, c.device, &mem) == 0 &&
                          mem.memory_available <= mem.memory_size;
      std::printf(
          "| %s %s| %s | %s %s/ %s |\n", Pad(std::to_string(c.device), 7).c_str(),
          Pad(std::to_string(c.logic), 22).c_str(), Pad(BusId(c.card, c.device), 15).c_str(),
          Pad(r.util, 12).c_str(),
          Pad(mem_ok ? std::to_string(mem.memory_size - mem.memory_available) : "NA", 5).c_str(),
          Pad(mem_ok ? std::to_string(mem.memory_size) : "NA", 32).c_str());
    }
    std::printf("%s\n", eq.c_str());
  }
}

// PrintHbmChips: a3 (Atlas A3, 910C) adds the physical id column and shows the second die's
// power as "-" (the card reports one figure).
void PrintHbmChips(const std::vector<Card>& cards, const TableLayout& l, bool a3) {
  const std::string sep = l.Rule('-');
  const std::string eq = l.Rule('=');
  std::printf(
      "| NPU   Name                | Health        | Power(W)    Temp(C)           "
      "Hugepages-Usage(page)|\n");
  std::printf("%s| Bus-Id        | AICore(%%)   Memory-Usage(MB)  HBM-Usage(MB)        |\n%s\n",
              a3 ? "| Chip  Phy-ID              " : "| Chip                      ", eq.c_str());
  for (const Card& card : cards) {
    for (size_t i = 0; i < card.chips.size(); ++i) {
      const Chip& c = card.chips[i];
      if (i > 0) {
        std::printf("%s\n", sep.c_str());
      }
      const ChipReadings r = ReadChip(c);
      int power = 0;
      const bool power_ok = dcmi_get_device_power_info(c.card, c.device, &power) == 0;
      dcmi_hbm_info hbm{};
      const bool hbm_ok = dcmi_get_device_hbm_info(c.card, c.device, &hbm) == 0;
      std::string power_s = (a3 && c.device == 1) ? "-"
                            : power_ok            ? Fmt("%.1f", power / 10.0)
                                                  : "NA";
      std::printf("| %s %s| %s | %s %s %s/ %s |\n", Pad(std::to_string(c.card), 5).c_str(),
                  Pad(ChipName(c.card, c.device, nullptr, nullptr), 20).c_str(),
                  Pad(r.health, 13).c_str(), Pad(power_s, 11).c_str(), Pad(r.temp, 17).c_str(),
                  Pad("0", 5).c_str(), Pad("0", 13).c_str());
      std::string chip_col =
          a3 ? Pad(std::to_string(c.device), 5) + " " + Pad(std::to_string(c.phy), 20)
             : Pad(std::to_string(c.device), 26);
      std::printf("| %s| %s | %s %s/ %s %s/ %s |\n", chip_col.c_str(),
                  Pad(BusId(c.card, c.device), 13).c_str(), Pad(r.util, 11).c_str(),
                  Pad("0", 5).c_str(), Pad("0", 10).c_str(),
                  Pad(hbm_ok ? std::to_string(hbm.memory_usage) : "NA", 5).c_str(),
                  Pad(hbm_ok ? std::to_string(hbm.memory_size) : "NA", 13).c_str());
    }
    std::printf("%s\n", eq.c_str());
  }
}

// PrintProcesses: the process section, up to 8 processes per chip. A row is
// "| <card:7> <chip>| <pid> | <name:24> | <memory> |", its cells cut to the frame's columns.
void PrintProcesses(const std::vector<Card>& cards, const TableLayout& l) {
  const std::string eq = l.Rule('=');
  std::printf("%s\n%s\n%s\n", l.Rule('-').c_str(), l.proc_header, eq.c_str());
  for (const Card& card : cards) {
    bool any = false;
    for (const Chip& c : card.chips) {
      dcmi_proc_mem_info procs[MAX_PROC_NUM_IN_DEVICE];
      int n = 0;
      if (dcmi_get_device_resource_info(c.card, c.device, procs, &n) != 0) {
        n = 0;
      }
      for (int i = 0; i < n && i < 8; ++i) {
        any = true;
        std::printf("| %s %s| %s | %s | %s |\n", Pad(std::to_string(c.card), 7).c_str(),
                    Pad(std::to_string(c.device), l.npu_w - 9).c_str(),
                    Pad(std::to_string(procs[i].proc_id), l.health_w - 2).c_str(),
                    Pad(ProcName(procs[i].proc_id), 24).c_str(),
                    Pad(std::to_string(procs[i].proc_mem_usage >> 20), l.usage_w - 29).c_str());
      }
    }
    if (!any) {
      std::printf("| %s |\n",
                  Pad(Fmt("No running processes found in NPU %d", card.id), l.Inner() - 2).c_str());
    }
    std::printf("%s\n", eq.c_str());
  }
}

int InfoTable() {
  std::vector<Card> cards;
  int rc = ListCards(&cards);
  if (rc != 0) {
    return DcmiFailed("listing the NPUs", rc);
  }
  char ver[64] = "NA";
  if (dcmi_get_driver_version(ver, sizeof(ver)) != 0) {
    std::strcpy(ver, "NA");
  }
  bool ddr = false;
  bool a3 = false;
  if (!cards.empty() && !cards[0].chips.empty()) {
    std::string name = ChipName(cards[0].id, 0, nullptr, nullptr);
    ddr = name.rfind("310", 0) == 0;
    a3 = name == "Ascend910";
  }
  const TableLayout& l = ddr ? kDdrLayout : kHbmLayout;
  // Title: "| npu-smi <ver> Version: <ver> |" fills the rule's inner width.
  std::printf("+%s+\n| npu-smi %s Version: %s |\n%s\n", std::string(l.Inner(), '-').c_str(),
              Pad(ver, l.version_w).c_str(), Pad(ver, l.Inner() - 20 - l.version_w).c_str(),
              l.Rule('-').c_str());
  if (ddr) {
    PrintDdrChips(cards, l);
  } else {
    PrintHbmChips(cards, l, a3);
  }
  PrintProcesses(cards, l);
  return 0;
}

// ---- npu-smi info -l / -m ----

int InfoList() {
  std::vector<Card> cards;
  int rc = ListCards(&cards);
  if (rc != 0) {
    return DcmiFailed("listing the NPUs", rc);
  }
  KeyValue("Total Count", std::to_string(cards.size()));
  for (const Card& card : cards) {
    std::printf("\n");
    KeyValue("NPU ID", std::to_string(card.id));
    std::string name = ChipName(card.id, 0, nullptr, nullptr);
    if (name.rfind("310", 0) == 0) {
      char product[64] = "NA";
      if (dcmi_get_product_type(card.id, 0, product, sizeof(product)) != 0) {
        std::strcpy(product, "NA");
      }
      product[sizeof(product) - 1] = '\0';
      KeyValue("Product Name", product);
      KeyValue("Serial Number", Fmt("0000%08d", card.id));
    }
    KeyValue("Chip Count", std::to_string(card.chips.size()));
  }
  return 0;
}

int InfoMapping() {
  std::vector<Card> cards;
  int rc = ListCards(&cards);
  if (rc != 0) {
    return DcmiFailed("listing the NPUs", rc);
  }
  std::printf("\t%s%s%s%s\n", Pad("NPU ID", 30).c_str(), Pad("Chip ID", 30).c_str(),
              Pad("Chip Logic ID", 30).c_str(), Pad("Chip Name", 30).c_str());
  for (const Card& card : cards) {
    for (const Chip& c : card.chips) {
      std::string type;
      std::string name = ChipName(c.card, c.device, &type, nullptr);
      std::printf("\t%s%s%s%s\n", Pad(std::to_string(c.card), 30).c_str(),
                  Pad(std::to_string(c.device), 30).c_str(),
                  Pad(std::to_string(c.logic), 30).c_str(), (type + " " + name).c_str());
    }
  }
  return 0;
}

// ---- option parsing ----

using Options = std::map<std::string, std::string>;

// ParseOptions: "-t board -i 0" -> {t: board, i: 0}. Returns false on a dangling option or a
// repeated one.
bool ParseOptions(int argc, char** argv, int start, Options* out) {
  for (int i = start; i < argc; i += 2) {
    std::string k = argv[i];
    if (k.size() != 2 || k[0] != '-' || i + 1 >= argc || out->count(k.substr(1)) != 0) {
      return false;
    }
    (*out)[k.substr(1)] = argv[i + 1];
  }
  return true;
}

bool GetInt(const Options& o, const char* key, int* v) {
  auto it = o.find(key);
  if (it == o.end() || it->second.empty() || it->second.size() > 9) {
    return false;
  }
  for (char c : it->second) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  *v = std::atoi(it->second.c_str());
  return true;
}

int NotFound() {
  std::printf("Command or option is not found.\n");
  return kErrInner;
}

int InvalidParam(const char* what) {
  std::printf("%s\n", what);
  return kErrInvalidParam;
}

// ---- info -t board ----

int InfoBoard(const Options& o) {
  int card = 0;
  if (!GetInt(o, "i", &card)) {
    return InvalidParam("Error parameter of -i.");
  }
  int n = 0;
  int rc = dcmi_get_device_num_in_card(card, &n);
  if (rc != 0) {
    std::printf("Error parameter of -i.\n");
    return ToNpuCode(rc);
  }
  int chip = -1;
  if (o.count("c") != 0 && (!GetInt(o, "c", &chip) || chip >= n)) {
    return InvalidParam("Error parameter of -c.");
  }
  dcmi_board_info board{};
  rc = dcmi_get_device_board_info(card, chip < 0 ? 0 : chip, &board);
  if (rc != 0) {
    return DcmiFailed("reading the board information", rc);
  }
  char ver[64] = "NA";
  if (dcmi_get_driver_version(ver, sizeof(ver)) != 0) {
    std::strcpy(ver, "NA");
  }
  ver[sizeof(ver) - 1] = '\0';
  std::string type;
  std::string npu_name;
  std::string name = ChipName(card, chip < 0 ? 0 : chip, &type, &npu_name);
  bool a3 = name == "Ascend910";
  KeyValue("NPU ID", std::to_string(card));
  if (chip >= 0) {
    KeyValue("Chip ID", std::to_string(chip));
    if (!a3) {
      KeyValue("Chip Type", type);
    } else {
      KeyValue("NPU Name", npu_name);
    }
    KeyValue("Chip Name", name);
    KeyValue("Chip Version", "V1");
  } else {
    char product[64] = "NA";
    if (dcmi_get_product_type(card, 0, product, sizeof(product)) != 0) {
      std::strcpy(product, "NA");
    }
    product[sizeof(product) - 1] = '\0';
    KeyValue("Product Name", product);
    KeyValue("Model", "NA");
    KeyValue("Manufacturer", "Huawei");
    KeyValue("Serial Number", Fmt("1023767%05d", card));
    KeyValue("Software Version", ver);
    KeyValue("Firmware Version", "7.7.0.6.236");
    KeyValue("Compatibility", geteuid() == 0 ? "OK" : "NOT SUPPORT");
  }
  KeyValue("Board ID", Fmt("0x%02X", board.board_id));
  if (a3) {
    unsigned mb = 0;
    KeyValue("Main Board ID",
             dcmi_get_mainboard_id(card, chip < 0 ? 0 : chip, &mb) == 0 ? Fmt("0x%02X", mb) : "NA");
  }
  KeyValue("PCB ID", Fmt("%X", board.pcb_id));
  KeyValue("BOM ID", std::to_string(board.bom_id));
  dcmi_pcie_info_all p{};
  const bool pcie_ok = dcmi_get_device_pcie_info_v2(card, chip < 0 ? 0 : chip, &p) == 0;
  auto pci_id = [&](unsigned v) { return pcie_ok ? Fmt("0x%04X", v) : std::string("NA"); };
  KeyValue("PCIe Bus Info", BusId(card, chip < 0 ? 0 : chip));
  KeyValue("Slot ID", std::to_string(board.slot_id));
  KeyValue("Class ID", "NA");
  KeyValue("PCI Vendor ID", pci_id(p.venderid));
  KeyValue("PCI Device ID", pci_id(p.deviceid));
  KeyValue("Subsystem Vendor ID", pci_id(p.subvenderid));
  KeyValue("Subsystem Device ID", pci_id(p.subdeviceid));
  if (chip < 0) {
    KeyValue("Chip Count", std::to_string(n));
  }
  return 0;
}

// ---- info -t template-info / info-vnpu / device-share ----

int TemplateInfo(const Options& o) {
  int card = -1;
  if (o.count("i") != 0 && !GetInt(o, "i", &card)) {
    return InvalidParam("Error parameter of -i.");
  }
  if (card < 0) {
    int num = 0;
    int list[64];
    int rc = dcmi_get_card_list(&num, list, 64);
    if (rc != 0 || num == 0) {
      return ToNpuCode(rc != 0 ? rc : DCMI_ERR_CODE_DEVICE_NOT_EXIST);
    }
    card = list[0];
  }
  // The template table has no DCMI query; npu-smi (like the real one) knows it per chip name.
  std::string name = ChipName(card, 0, nullptr, nullptr);
  struct Row {
    const char* name;
    int aicore, gb, aicpu, vpc, venc, jpegd, pngd, vdec, jpege;
  };
  static const std::map<std::string, std::vector<Row>> kTables = {
      {"910B1",
       {{"vir12_3c_32g", 12, 32, 3, 4, 0, 12, 0, 1, 2},
        {"vir06_1c_16g", 6, 16, 1, 2, 0, 6, 0, 0, 1}}},
      {"910B2",
       {{"vir12_3c_32g", 12, 32, 3, 4, 0, 12, 0, 1, 2},
        {"vir06_1c_16g", 6, 16, 1, 2, 0, 6, 0, 0, 1}}},
      {"910B3",
       {{"vir10_3c_32g", 10, 32, 3, 4, 0, 12, 0, 1, 2},
        {"vir05_1c_16g", 5, 16, 1, 2, 0, 6, 0, 0, 1}}},
      {"910B4",
       {{"vir10_3c_16g", 10, 16, 3, 4, 0, 12, 0, 1, 2},
        {"vir10_4c_16g_m", 10, 16, 4, 9, 0, 24, 0, 2, 4},
        {"vir10_3c_16g_nm", 10, 16, 3, 0, 0, 0, 0, 0, 0},
        {"vir05_1c_8g", 5, 8, 1, 2, 0, 6, 0, 0, 1}}},
      {"310P3",
       {{"vir01", 1, 3, 1, 1, 0, 4, 0, 1, 1},
        {"vir02", 2, 6, 2, 2, 1, 8, 0, 2, 2},
        {"vir02_1c", 2, 6, 1, 2, 1, 8, 0, 2, 2},
        {"vir04", 4, 12, 4, 4, 2, 16, 0, 4, 4},
        {"vir04_3c", 4, 12, 3, 4, 2, 16, 0, 4, 4},
        {"vir04_3c_ndvpp", 4, 12, 3, 0, 0, 0, 0, 0, 0},
        {"vir04_4c_dvpp", 4, 12, 4, 8, 3, 32, 0, 8, 8}}},
  };
  auto it = kTables.find(name);
  if (it == kTables.end()) {
    std::printf("This device does not support querying template-info.\n");
    return kErrNotSupport;
  }
  const std::string line = "+" + std::string(90, '-') + "+";
  std::printf("%s\n|%s|\n", line.c_str(), Pad("NPU instance template info is:", 90).c_str());
  std::printf(
      "|Name                AICORE    Memory    AICPU     VPC            VENC           "
      "JPEGD     |\n");
  std::printf(
      "|                               GB                 PNGD           VDEC           "
      "JPEGE     |\n");
  std::printf("|%s|\n", std::string(90, '=').c_str());
  for (const Row& r : it->second) {
    std::printf("|%s %s %s %s %s %s %s|\n", Pad(r.name, 19).c_str(),
                Pad(std::to_string(r.aicore), 9).c_str(), Pad(std::to_string(r.gb), 9).c_str(),
                Pad(Fmt("%g", static_cast<double>(r.aicpu)), 9).c_str(),
                Pad(std::to_string(r.vpc), 14).c_str(), Pad(std::to_string(r.venc), 14).c_str(),
                Pad(std::to_string(r.jpegd), 10).c_str());
    std::printf("|%s%s %s %s|\n", std::string(50, ' ').c_str(),
                Pad(Fmt("%g", static_cast<double>(r.pngd)), 14).c_str(),
                Pad(std::to_string(r.vdec), 14).c_str(), Pad(std::to_string(r.jpege), 10).c_str());
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

bool GetCardChip(const Options& o, int* card, int* chip, int* rc) {
  if (!GetInt(o, "i", card)) {
    *rc = InvalidParam("Error parameter of -i.");
    return false;
  }
  if (!GetInt(o, "c", chip)) {
    *rc = InvalidParam("Error parameter of -c.");
    return false;
  }
  enum dcmi_unit_type type;
  int r = dcmi_get_device_type(*card, *chip, &type);
  if (r != 0) {
    std::printf("Error parameter of -i or -c.\n");
    *rc = ToNpuCode(r);
    return false;
  }
  return true;
}

std::string FreeTotal(double free, double total) {
  if (free < 0 || total < 0) {
    return "NA/NA";
  }
  return Fmt("%g/%g", free, total);
}

int InfoVnpu(const Options& o) {
  int card = 0;
  int chip = 0;
  int rc = 0;
  if (!GetCardChip(o, &card, &chip, &rc)) {
    return rc;
  }
  dcmi_soc_total_resource total{};
  dcmi_soc_free_resource free{};
  unsigned size = sizeof(total);
  rc = dcmi_get_device_info(card, chip, DCMI_MAIN_CMD_VDEV_MNG,
                            DCMI_VMNG_SUB_CMD_GET_TOTAL_RESOURCE, &total, &size);
  if (rc == 0) {
    size = sizeof(free);
    rc = dcmi_get_device_info(card, chip, DCMI_MAIN_CMD_VDEV_MNG,
                              DCMI_VMNG_SUB_CMD_GET_FREE_RESOURCE, &free, &size);
  }
  if (rc != 0) {
    std::printf("This device does not support querying info-vnpu.\n");
    return ToNpuCode(rc);
  }
  const std::string line = "+" + std::string(79, '-') + "+";
  auto row = [](const std::string& s) { std::printf("| %s|\n", Pad(s, 78).c_str()); };
  std::printf("%s\n", line.c_str());
  row("NPU resource static info as follow:");
  row("Format:Free/Total                   NA: Currently, query is not supported.");
  row("AICORE    Memory    AICPU    VPC    VENC    VDEC    JPEGD    JPEGE    PNGD");
  row("           GB");
  std::printf("|%s|\n", std::string(79, '=').c_str());
  const auto& fc = free.computing;
  const auto& tc = total.computing;
  std::printf("| %s %s %s %s %s %s %s %s %s|\n", Pad(FreeTotal(fc.aic, tc.aic), 9).c_str(),
              Pad(FreeTotal(static_cast<double>(fc.memory_size >> 10),
                            static_cast<double>(tc.memory_size >> 10)),
                  9)
                  .c_str(),
              Pad(FreeTotal(fc.device_aicpu, tc.device_aicpu), 8).c_str(),
              Pad(FreeTotal(free.media.vpc, total.media.vpc), 6).c_str(),
              Pad(FreeTotal(free.media.venc, total.media.venc), 7).c_str(),
              Pad(FreeTotal(free.media.vdec, total.media.vdec), 7).c_str(),
              Pad(FreeTotal(free.media.jpegd, total.media.jpegd), 8).c_str(),
              Pad(FreeTotal(free.media.jpege, total.media.jpege), 8).c_str(),
              Pad(FreeTotal(free.media.pngd, total.media.pngd), 8).c_str());
  std::printf("%s\n", line.c_str());
  row(Fmt("Total number of vnpu: %u", total.vdev_num));
  std::printf("%s\n", line.c_str());
  std::printf(
      "|  Vnpu ID  |  Vgroup ID     |  Container ID  |  Status  |  Template Name       |\n");
  std::printf("%s\n", line.c_str());
  for (unsigned i = 0; i < total.vdev_num && i < 32; ++i) {
    dcmi_vdev_query_stru q{};
    q.vdev_id = total.vdev_id[i];
    size = sizeof(q);
    if (dcmi_get_device_info(card, chip, DCMI_MAIN_CMD_VDEV_MNG,
                             DCMI_VMNG_SUB_CMD_GET_VDEV_RESOURCE, &q, &size) != 0) {
      continue;
    }
    std::printf("|  %s|  %s|  %s|  %s|  %s|\n", Pad(std::to_string(q.vdev_id), 9).c_str(),
                Pad(std::to_string(q.query_info.vfg_id), 14).c_str(),
                Pad(Fmt("%012llx", q.query_info.container_id & 0xFFFFFFFFFFFFull), 14).c_str(),
                Pad(std::to_string(q.query_info.status), 8).c_str(),
                Pad(q.query_info.name, 20).c_str());
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int InfoDeviceShare(const Options& o) {
  int card = 0;
  if (!GetInt(o, "i", &card)) {
    return InvalidParam("Error parameter of -i.");
  }
  int n = 0;
  int rc = dcmi_get_device_num_in_card(card, &n);
  if (rc != 0) {
    std::printf("Error parameter of -i.\n");
    return ToNpuCode(rc);
  }
  int only = -1;
  if (o.count("c") != 0 && (!GetInt(o, "c", &only) || only >= n)) {
    return InvalidParam("Error parameter of -c.");
  }
  for (int c = 0; c < n; ++c) {
    if (only >= 0 && c != only) {
      continue;
    }
    int flag = 0;
    rc = dcmi_get_device_share_enable(card, c, &flag);
    if (rc != 0) {
      return ToNpuCode(rc);
    }
    KeyValue("Device-share Status", flag ? "True" : "False");
  }
  return 0;
}

// ---- set ----

// ReadYes: one whitespace-delimited token from stdin; true only for "Y"/"y".
bool ReadYes() {
  char answer[64] = {0};
  if (std::scanf("%63s", answer) != 1) {
    return false;
  }
  return std::strcmp(answer, "Y") == 0 || std::strcmp(answer, "y") == 0;
}

int SetDeviceShare(const Options& o) {
  int card = 0;
  int flag = 0;
  if (!GetInt(o, "i", &card)) {
    return InvalidParam("Error parameter of -i.");
  }
  if (o.count("d") == 0) {
    return InvalidParam("Must input parameter of -d.");
  }
  if (!GetInt(o, "d", &flag) || flag > 1) {
    return InvalidParam("Error parameter of -d.");
  }
  int n = 0;
  int rc = dcmi_get_device_num_in_card(card, &n);
  if (rc != 0) {
    std::printf("Error parameter of -i.\n");
    return ToNpuCode(rc);
  }
  int chip = -1;
  if (o.count("c") != 0 && (!GetInt(o, "c", &chip) || chip >= n)) {
    return InvalidParam("Error parameter of -c.");
  }
  bool a3 = ChipName(card, 0, nullptr, nullptr) == "Ascend910";
  if (flag == 1 || (a3 && chip >= 0)) {
    if (a3 && chip >= 0) {
      std::printf(
          "Setting device sharing for single chip is not allowed for this product, all chips "
          "belong to the npu card will keep same device-share status!\n"
          "There are security risks when enabling or disabling the device sharing, Please ensure "
          "that only a single user operating the card at the same time.\n");
    } else {
      std::printf(
          "There are security risks when opening device sharing, Please ensure that only "
          "a single user uses the chip.\n");
    }
    std::printf("Are you sure you want to continue setting?(Y/N)");
    std::fflush(stdout);
    if (!ReadYes()) {
      return kErrAbort;
    }
    std::printf("\n");
  }
  for (int c = 0; c < n; ++c) {
    if (chip >= 0 && c != chip) {
      continue;
    }
    rc = dcmi_set_device_info(card, c, DCMI_MAIN_CMD_DEVICE_SHARE, DCMI_DEVICE_SHARE_SUB_CMD_COMMON,
                              &flag, sizeof(flag));
    if (rc != 0) {
      break;
    }
  }
  if (rc != 0) {
    if (rc == DCMI_ERR_CODE_OPER_NOT_PERMITTED) {
      std::printf(
          "Operation not permitted, only root user on physical machine or on physical "
          "privilege container can call this api.\n");
    }
    KeyValue("Status", "Fail");
    KeyValue("Message",
             chip >= 0 ? "Failed to set chip device-share" : "Failed to set card device-share");
    return ToNpuCode(rc);
  }
  KeyValue("Status", "OK");
  KeyValue("Message", chip >= 0 ? "Set chip device-share successfully"
                                : "The device-share is set successfully.");
  return 0;
}

int CreateVnpu(const Options& o) {
  int card = 0;
  int chip = 0;
  int rc = 0;
  if (!GetCardChip(o, &card, &chip, &rc)) {
    return rc;
  }
  if (o.count("f") == 0) {
    return InvalidParam("Must input parameter of -f.");
  }
  const std::string& tpl = o.at("f");
  int vid = -1;
  if (o.count("v") != 0 && !GetInt(o, "v", &vid)) {
    return InvalidParam("Error parameter of -v.");
  }
  int vgroup = -1;
  if (o.count("g") != 0) {
    bool is_310p = ChipName(card, chip, nullptr, nullptr).rfind("310P", 0) == 0;
    if (!is_310p || !GetInt(o, "g", &vgroup) || vgroup > 3) {
      return InvalidParam("Error parameter of -g.");
    }
  }
  dcmi_soc_free_resource free{};
  unsigned size = sizeof(free);
  rc = dcmi_get_device_info(card, chip, DCMI_MAIN_CMD_VDEV_MNG, DCMI_VMNG_SUB_CMD_GET_FREE_RESOURCE,
                            &free, &size);
  if (rc != 0) {
    std::printf("This device does not support vnpu creation.\n");
    return ToNpuCode(rc);
  }
  dcmi_create_vdev_res_stru req{};
  req.vdev_id = vid < 0 ? DCMI_VDEV_INVALID_ID : static_cast<unsigned>(vid);
  req.vfg_id = vgroup < 0 ? DCMI_VDEV_INVALID_ID : static_cast<unsigned>(vgroup);
  if (tpl.empty() || tpl.size() >= sizeof(req.template_name)) {
    return InvalidParam("Error parameter of -f.");
  }
  std::memcpy(req.template_name, tpl.c_str(), tpl.size() + 1);
  dcmi_create_vdev_out out{};
  rc = dcmi_create_vdevice(card, chip, &req, &out);
  if (rc != 0) {
    if (rc == DCMI_ERR_CODE_NOT_SUPPORT) {
      std::printf("Insufficient number of cores available, unallocated cores number:%g.\n",
                  static_cast<double>(free.computing.aic));
    }
    std::printf("create vnpu failed.\n");
    return ToNpuCode(rc);
  }
  KeyValue("Status", "OK");
  KeyValue("Message", "Create vnpu success");
  return 0;
}

int DestroyVnpu(const Options& o) {
  int card = 0;
  int chip = 0;
  int rc = 0;
  if (!GetCardChip(o, &card, &chip, &rc)) {
    return rc;
  }
  int vid = 0;
  if (!GetInt(o, "v", &vid)) {
    return InvalidParam("Error parameter of -v.");
  }
  rc = dcmi_set_destroy_vdevice(card, chip, static_cast<unsigned>(vid));
  if (rc == DCMI_ERR_CODE_INVALID_PARAMETER) {
    return InvalidParam("Error parameter of -v.");
  }
  if (rc != 0) {
    std::printf("destroy vnpu %d failed.\n", vid);
    return ToNpuCode(rc);
  }
  KeyValue("Status", "OK");
  KeyValue("Message", Fmt("Destroy vnpu %d success", vid));
  return 0;
}

// The `-t <type>` subcommands of `npu-smi info` and `npu-smi set`.
struct Subcommand {
  const char* cmd;
  const char* type;
  int (*run)(const Options&);
};
constexpr Subcommand kSubcommands[] = {
    {"info", "board", InfoBoard},
    {"info", "template-info", TemplateInfo},
    {"info", "info-vnpu", InfoVnpu},
    {"info", "device-share", InfoDeviceShare},
    {"set", "device-share", SetDeviceShare},
    {"set", "create-vnpu", CreateVnpu},
    {"set", "destroy-vnpu", DestroyVnpu},
};

int Run(int argc, char** argv) {
  if (argc < 2) {
    return NotFound();
  }
  std::string cmd = argv[1];
  if (cmd != "info" && cmd != "set") {
    return NotFound();
  }
  int rc = dcmi_init();
  if (rc != 0) {
    std::printf("dcmi module initialize failed. ret is %d\n", rc);
    return rc;
  }
  if (cmd == "info" && argc == 2) {
    return InfoTable();
  }
  if (cmd == "info" && argc == 3 && std::strcmp(argv[2], "-l") == 0) {
    return InfoList();
  }
  if (cmd == "info" && argc == 3 && std::strcmp(argv[2], "-m") == 0) {
    return InfoMapping();
  }
  Options o;
  if (!ParseOptions(argc, argv, 2, &o) || o.count("t") == 0) {
    return NotFound();
  }
  const std::string& type = o["t"];
  for (const Subcommand& s : kSubcommands) {
    if (cmd == s.cmd && type == s.type) {
      return s.run(o);
    }
  }
  return NotFound();
}

}  // namespace

int main(int argc, char** argv) {
  int rc = Run(argc, argv);
  std::fflush(stdout);
  return rc;
}
