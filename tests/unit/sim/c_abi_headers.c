/* Compiles every C-ABI header of npu-sim as C (the headers are consumed by C programs, Go cgo
 * and Rust bindgen); the struct-size static_asserts inside them fire here too. */
#include "acl/acl.h"
#include "dcmi_interface_api.h"
#include "runtime/rt.h"
#include "state/state_layout.h"

int npusim_c_abi_headers_compiled(void);
int npusim_c_abi_headers_compiled(void) { return (int)sizeof(struct dcmi_vdev_query_stru); }
