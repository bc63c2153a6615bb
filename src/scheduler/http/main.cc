// npushare-scheduler: see scheduler/http/scheduler_main.h.
#include "scheduler/http/scheduler_main.h"

int main(int argc, char** argv) {
  return npushare::scheduler::http::SchedulerMain(argc, argv);
}
