/* Status names and the per-thread last-error message (see include/clfit/status.h). */
#include "clfit/status.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[16384]; /* room for a build log */

const char *clfit_last_error(void) { return last_error; }

clfit_status clfit_fail(clfit_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

#define NAME(code, text) case code: return text;
const char *clfit_status_name(clfit_status s)
{
    switch (s) {
    NAME(0, "CL_SUCCESS")
    NAME(-1, "CL_DEVICE_NOT_FOUND") NAME(-2, "CL_DEVICE_NOT_AVAILABLE")
    NAME(-3, "CL_COMPILER_NOT_AVAILABLE") NAME(-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE")
    NAME(-5, "CL_OUT_OF_RESOURCES") NAME(-6, "CL_OUT_OF_HOST_MEMORY")
    NAME(-7, "CL_PROFILING_INFO_NOT_AVAILABLE") NAME(-8, "CL_MEM_COPY_OVERLAP")
    NAME(-9, "CL_IMAGE_FORMAT_MISMATCH") NAME(-10, "CL_IMAGE_FORMAT_NOT_SUPPORTED")
    NAME(-11, "CL_BUILD_PROGRAM_FAILURE") NAME(-12, "CL_MAP_FAILURE")
    NAME(-13, "CL_MISALIGNED_SUB_BUFFER_OFFSET")
    NAME(-14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST")
    NAME(-15, "CL_COMPILE_PROGRAM_FAILURE") NAME(-16, "CL_LINKER_NOT_AVAILABLE")
    NAME(-17, "CL_LINK_PROGRAM_FAILURE") NAME(-18, "CL_DEVICE_PARTITION_FAILED")
    NAME(-19, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE")
    NAME(-30, "CL_INVALID_VALUE") NAME(-31, "CL_INVALID_DEVICE_TYPE")
    NAME(-32, "CL_INVALID_PLATFORM") NAME(-33, "CL_INVALID_DEVICE")
    NAME(-34, "CL_INVALID_CONTEXT") NAME(-35, "CL_INVALID_QUEUE_PROPERTIES")
    NAME(-36, "CL_INVALID_COMMAND_QUEUE") NAME(-37, "CL_INVALID_HOST_PTR")
    NAME(-38, "CL_INVALID_MEM_OBJECT") NAME(-39, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR")
    NAME(-40, "CL_INVALID_IMAGE_SIZE") NAME(-41, "CL_INVALID_SAMPLER")
    NAME(-42, "CL_INVALID_BINARY") NAME(-43, "CL_INVALID_BUILD_OPTIONS")
    NAME(-44, "CL_INVALID_PROGRAM") NAME(-45, "CL_INVALID_PROGRAM_EXECUTABLE")
    NAME(-46, "CL_INVALID_KERNEL_NAME") NAME(-47, "CL_INVALID_KERNEL_DEFINITION")
    NAME(-48, "CL_INVALID_KERNEL") NAME(-49, "CL_INVALID_ARG_INDEX")
    NAME(-50, "CL_INVALID_ARG_VALUE") NAME(-51, "CL_INVALID_ARG_SIZE")
    NAME(-52, "CL_INVALID_KERNEL_ARGS") NAME(-53, "CL_INVALID_WORK_DIMENSION")
    NAME(-54, "CL_INVALID_WORK_GROUP_SIZE") NAME(-55, "CL_INVALID_WORK_ITEM_SIZE")
    NAME(-56, "CL_INVALID_GLOBAL_OFFSET") NAME(-57, "CL_INVALID_EVENT_WAIT_LIST")
    NAME(-58, "CL_INVALID_EVENT") NAME(-59, "CL_INVALID_OPERATION")
    NAME(-60, "CL_INVALID_GL_OBJECT") NAME(-61, "CL_INVALID_BUFFER_SIZE")
    NAME(-62, "CL_INVALID_MIP_LEVEL") NAME(-63, "CL_INVALID_GLOBAL_WORK_SIZE")
    NAME(-64, "CL_INVALID_PROPERTY") NAME(-65, "CL_INVALID_IMAGE_DESCRIPTOR")
    NAME(-66, "CL_INVALID_COMPILER_OPTIONS") NAME(-67, "CL_INVALID_LINKER_OPTIONS")
    NAME(-68, "CL_INVALID_DEVICE_PARTITION_COUNT") NAME(-69, "CL_INVALID_PIPE_SIZE")
    NAME(-70, "CL_INVALID_DEVICE_QUEUE") NAME(-71, "CL_INVALID_SPEC_ID")
    NAME(-72, "CL_MAX_SIZE_RESTRICTION_EXCEEDED")
    NAME(-1001, "CL_PLATFORM_NOT_FOUND_KHR")
    /* CLBlast's own codes (clblast_c.h, CLBlastStatusCode) */
    NAME(-1024, "CLBlastNotImplemented") NAME(-1022, "CLBlastInvalidMatrixA")
    NAME(-1021, "CLBlastInvalidMatrixB") NAME(-1020, "CLBlastInvalidMatrixC")
    NAME(-1019, "CLBlastInvalidVectorX") NAME(-1018, "CLBlastInvalidVectorY")
    NAME(-1017, "CLBlastInvalidDimension") NAME(-1016, "CLBlastInvalidLeadDimA")
    NAME(-1015, "CLBlastInvalidLeadDimB") NAME(-1014, "CLBlastInvalidLeadDimC")
    NAME(-1013, "CLBlastInvalidIncrementX") NAME(-1012, "CLBlastInvalidIncrementY")
    NAME(-1011, "CLBlastInsufficientMemoryA") NAME(-1010, "CLBlastInsufficientMemoryB")
    NAME(-1009, "CLBlastInsufficientMemoryC") NAME(-1008, "CLBlastInsufficientMemoryX")
    NAME(-1007, "CLBlastInsufficientMemoryY")
    NAME(-2050, "CLBlastInsufficientMemoryTemp") NAME(-2049, "CLBlastInvalidBatchCount")
    NAME(-2048, "CLBlastInvalidOverrideKernel") NAME(-2047, "CLBlastMissingOverrideParameter")
    NAME(-2046, "CLBlastInvalidLocalMemUsage") NAME(-2045, "CLBlastNoHalfPrecision")
    NAME(-2044, "CLBlastNoDoublePrecision") NAME(-2043, "CLBlastInvalidVectorScalar")
    NAME(-2042, "CLBlastInsufficientMemoryScalar") NAME(-2041, "CLBlastDatabaseError")
    NAME(-2040, "CLBlastUnknownError") NAME(-2039, "CLBlastUnexpectedError")
    /* clfit's own */
    NAME(CLFIT_ERR_IO, "CLFIT_ERR_IO") NAME(CLFIT_ERR_FORMAT, "CLFIT_ERR_FORMAT")
    NAME(CLFIT_ERR_NOMEM, "CLFIT_ERR_NOMEM") NAME(CLFIT_ERR_ARG, "CLFIT_ERR_ARG")
    NAME(CLFIT_ERR_NODEVICE, "CLFIT_ERR_NODEVICE") NAME(CLFIT_ERR_NUMERIC, "CLFIT_ERR_NUMERIC")
        NAME(CLFIT_ERR_CHECK, "CLFIT_ERR_CHECK")
    NAME(CLFIT_STOPPED, "CLFIT_STOPPED")
    default: return "UNKNOWN_STATUS";
    }
}
#undef NAME
