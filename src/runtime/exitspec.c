/* SPDX-License-Identifier: MIT */
/*
 * exitspec.c — OpenPAI's exit-code table as data.
 *
 * DESIGN
 * ------
 * Transcribed from microsoft/pai: src/k8s-job-exit-spec/config/
 * k8s-job-exit-spec.yaml (the copy at 02cf49ca), entry by entry and in file
 * order, with every field: phrase, issuer, causer, type, stage, behavior,
 * reaction, reason, repro, solution and the runtimeContainerPatterns. The
 * order matters: openpai-runtime's exithandler tries the entries with a code
 * above 0 and runtime patterns in this order, and the first that matches
 * wins. The controllerPodPatterns (FrameworkController's view of a pod) are
 * not transcribed: on this executor the only pod-level fact is the OOM flag,
 * which classify.c maps to -1200 itself.
 *
 * Three regexes differ from the file, on purpose. In Go's RE2 they carry
 * metacharacters their authors meant literally, so the message they were
 * written for never matched:
 *   226  "cuda runtime error (2) : out of memory"  — "(2)" is a group, so the
 *        real "...error (2) : out..." did not match; we match both forms;
 *   228  "dynamic_rnn() got ..."                    — "()" is an empty group;
 *   229  "filenotfounderror: [errno 2] no such ..." — "[errno 2]" is a class.
 * Everything else is verbatim.
 *
 * Newer copies of the file (the research notes, pai a95d942) also list 128
 * ContainerMayFailDueToGpuDeviceEccError (matched by an nvidia-smi ECC query,
 * which this executor does not make), -1205 ContainerGpuDeviceNotFoundError
 * (a docker-level error), and renumber 227 EngineCoreDump as 235. Without the
 * text of those entries we keep the copy we could read in full.
 */
#include <stddef.h>

#include "runtime/internal.h"

#define L(...)        ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE          ((const char *const[]){ NULL })
#define PATS(...)     .pats = (const struct rt__pattern[]){ __VA_ARGS__ }, \
                      .npats = sizeof((const struct rt__pattern[]){ __VA_ARGS__ }) / sizeof(struct rt__pattern)
#define EXIT(n)       { .has_exit = true, .exit_code = (n) }
#define USER(re)      { .user_re = (re) }
#define EXIT_USER(n, re)  { .has_exit = true, .exit_code = (n), .user_re = (re) }
#define EXIT_PLAT(n, re)  { .has_exit = true, .exit_code = (n), .platform_re = (re) }

#define RETRY_ADMIN   L("Wait result from next retry", "Contact Cluster Admin")
#define FIX_BUG       L("Check container log and fix your program bug")

const struct rt__exit_entry rt__exit_table[] = {
	/* [0, 0] PAI_FC: success */
	{ .spec = { 0, "Succeeded", "USER_CONTAINER", "USER_CONTAINER", "USER_SUCCESS", "COMPLETING", RT_UNKNOWN,
	    "NEVER_RETRY", "", L("User program exits with exitcode 0"), NONE } },

	/* [-999, -1] PAI_FC issued failures */
	{ .spec = { -100, "ConfigMapExternalDeleted", "PAI_FC", "PAI_UNKNOWN", "PLATFORM_FAILURE", "UNKNOWN", RT_TRANSIENT,
	    "ALWAYS_RETRY", "The ConfigMap of this job attempt is deleted by external unexpectedly",
	    L("Manually delete the ConfigMap of this job attempt"), RETRY_ADMIN } },
	{ .spec = { -101, "PodExternalDeleted", "PAI_FC", "PAI_UNKNOWN", "PLATFORM_FAILURE", "UNKNOWN", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Pod is deleted by external unexpectedly",
	    L("Manually delete a Pod of this job"), RETRY_ADMIN } },
	{ .spec = { -110, "ConfigMapCreationTimeout", "PAI_FC", "PAI_UNKNOWN", "PLATFORM_FAILURE", "LAUNCHING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "The ConfigMap of this job attempt creation timeout, maybe K8S ApiServer is down",
	    L("Just after FC created a ConfigMap, bring down the K8S ApiServer"), RETRY_ADMIN } },
	{ .spec = { -111, "PodCreationTimeout", "PAI_FC", "PAI_UNKNOWN", "PLATFORM_FAILURE", "LAUNCHING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Pod creation timeout, maybe K8S ApiServer is down",
	    L("Just after FC created a Pod, bring down the K8S ApiServer"), RETRY_ADMIN } },
	{ .spec = { -200, "PodSpecPermanentError", "PAI_FC", "USER_SUBMISSION", "USER_FAILURE", "SUBMITTING", RT_PERMANENT,
	    "NEVER_RETRY", "Pod spec contains permanent error",
	    L("Specify a Pod in Framework with duplicated container names"),
	    L("Check diagnostics and revise your job config") } },
	{ .spec = { -210, "StopFrameworkRequested", "PAI_FC", "USER_STOP", "USER_STOP", "UNKNOWN", RT_PERMANENT,
	    "NEVER_RETRY", "User has requested to stop the job", L("Stop a job"), NONE } },
	{ .spec = { -220, "FrameworkAttemptCompletion", "PAI_FC", "USER_STOP", "USER_STOP", "UNKNOWN", RT_PERMANENT,
	    "NEVER_RETRY", "Stop to complete current FrameworkAttempt",
	    L("Stop a job with long running container"), NONE } },
	{ .spec = { -300, "PodFailedWithoutFailedContainer", "PAI_FC", "UNKNOWN", "UNKNOWN_FAILURE", "LAUNCHING", RT_UNKNOWN,
	    "RETRY_TO_MAX", "Pod failed but without any failed container, may be stopped by K8S",
	    L("Submit a job which will be rejected by kubelet"),
	    L("Check diagnostics and find root cause", "Wait result from next retry", "Contact Cluster Admin") } },

	/* [-1199, -1000] PAI_K8S issued failures */
	{ .spec = { -1000, "PodEvicted", "PAI_K8S", "PAI_K8S", "PLATFORM_FAILURE", "RUNNING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Pod is evicted by K8S, maybe its node is out of resource",
	    L("Start a raw process on the host to use up almost all memory on the node"), RETRY_ADMIN } },
	{ .spec = { -1001, "PodNodeLost", "PAI_K8S", "PAI_K8S", "PLATFORM_FAILURE", "RUNNING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Pod lost due to node lost, maybe its kubelet is down for a long time",
	    L("Stop the Pod's kubelet"), RETRY_ADMIN } },
	{ .spec = { -1002, "PodScheduledToInsufficientResourceNode", "PAI_K8S", "PAI_K8S", "PLATFORM_FAILURE", "LAUNCHING",
	    RT_TRANSIENT, "ALWAYS_RETRY",
	    "Pod is rejected by the kubelet of its node, because it is wrongly scheduled to a node with "
	    "insufficient required resource",
	    L("Directly bind a Pod to a node with more required memory than the node capacity"), RETRY_ADMIN } },
	{ .spec = { -1003, "PodPreemptedForCriticalPod", "PAI_K8S", "PAI_K8S", "PLATFORM_FAILURE", "RUNNING", RT_TRANSIENT,
	    "ALWAYS_RETRY",
	    "Pod is preempted by the kubelet of its node for the admission of other more critical platform Pod",
	    L("Submit a large critical Pod to a node with a normal Pod already running"), RETRY_ADMIN } },
	{ .spec = { -1004, "PodDeadlineExceeded", "PAI_K8S", "USER_STOP", "USER_STOP", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "Pod is stopped by the kubelet of its node, because its specified deadline exceeded",
	    L("Submit a large critical Pod to a node with a normal Pod already running"), RETRY_ADMIN } },
	{ .spec = { -1005, "PodNodeAdmissionForbidden", "PAI_K8S", "USER_SUBMISSION", "USER_FAILURE", "LAUNCHING",
	    RT_PERMANENT, "NEVER_RETRY", "Pod is forbidden by the kubelet of its node, maybe it is invalid",
	    L("Submit a privileged Pod to a node which does not allow privileged container"), RETRY_ADMIN } },
	{ .spec = { -1006, "PodNodeAdmissionUnexpectedError", "PAI_K8S", "PAI_K8S", "PLATFORM_FAILURE", "LAUNCHING",
	    RT_TRANSIENT, "ALWAYS_RETRY", "Pod is rejected by the kubelet due to unexpected error",
	    L("Transient errors in kubelet"), RETRY_ADMIN } },

	/* [-1399, -1200] Docker issued failures */
	{ .spec = { -1300, "InitContainerDockerOOMKilled", "PAI_DOCKER", "PAI_RUNTIME", "PLATFORM_FAILURE", "LAUNCHING",
	    RT_TRANSIENT, "ALWAYS_RETRY", "Init Container killed by docker due to it exceeded the request memory",
	    L("Init Container uses more memory than its requested"), RETRY_ADMIN } },
	{ .spec = { -1200, "UserContainerDockerOOMKilled", "PAI_DOCKER", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "User Container killed by docker due to it exceeded the request memory",
	    L("User program uses more memory than its requested"),
	    L("Increase per task memory request",
	      "Decrease per task memory usage by such as increasing task number") } },
	{ .spec = { -1201, "ContainerDockerCreationError", "PAI_DOCKER", "UNKNOWN", "UNKNOWN_FAILURE", "LAUNCHING",
	    RT_UNKNOWN, "RETRY_TO_MAX", "Failed to create docker container",
	    L("Execute docker run with image foo123"),
	    L("Check diagnostics and find root cause", "Wait result from next retry", "Contact Cluster Admin") } },
	{ .spec = { -1202, "ContainerDockerStartCmdPermissionDenied", "PAI_DOCKER", "PAI_RUNTIME", "PLATFORM_FAILURE",
	    "LAUNCHING", RT_PERMANENT, "NEVER_RETRY", "Failed to start docker container due to permission denied",
	    L("Execute docker run with cmd /etc"), L("Contact PAI Dev to fix the PAI Runtime bug") } },
	{ .spec = { -1203, "ContainerDockerStartCmdNotFound", "PAI_DOCKER", "PAI_RUNTIME", "PLATFORM_FAILURE", "LAUNCHING",
	    RT_PERMANENT, "NEVER_RETRY", "Failed to start docker container due to cmd not found",
	    L("Execute docker run with cmd foo"), L("Contact PAI Dev to fix the PAI Runtime bug") } },
	{ .spec = { -1204, "ContainerDockerStartUnknownError", "PAI_DOCKER", "UNKNOWN", "UNKNOWN_FAILURE", "LAUNCHING",
	    RT_UNKNOWN, "RETRY_TO_MAX", "Failed to start docker container due to unknown error",
	    L("Submit a Pod with unknown capability specified in its SecurityContext"),
	    L("Check diagnostics and find root cause", "Wait result from next retry", "Contact Cluster Admin") } },

	/* [129, 192] involuntary failures caused by an OS signal */
	{ .spec = { 130, "ContainerSigIntReceived", "PAI_OS", "PAI_OS", "PLATFORM_FAILURE", "RUNNING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Container killed by OS Signal: SIGINT", L("Kill container process by SIGINT"),
	    RETRY_ADMIN }, PATS(EXIT(130)) },
	{ .spec = { 131, "ContainerSigQuitReceived", "PAI_OS", "PAI_OS", "PLATFORM_FAILURE", "RUNNING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Container killed by OS Signal: SIGQUIT", L("Kill container process by SIGQUIT"),
	    RETRY_ADMIN }, PATS(EXIT(131)) },
	{ .spec = { 132, "ContainerSigIllReceived", "USER_CONTAINER", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container killed by OS Signal: SIGILL",
	    L("User program executes an illegal, malformed, unknown, or privileged machine instruction"), FIX_BUG },
	  PATS(EXIT(132)) },
	{ .spec = { 134, "ContainerSigAbrtReceived", "USER_CONTAINER", "UNKNOWN", "UNKNOWN_FAILURE", "RUNNING", RT_UNKNOWN,
	    "RETRY_TO_MAX", "Container killed by OS Signal: SIGABRT", L("User program calls abort() by libc"),
	    L("Check container log and find root cause", "Wait result from next retry") }, PATS(EXIT(134)) },
	{ .spec = { 135, "ContainerSigBusReceived", "USER_CONTAINER", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container killed by OS Signal: SIGBUS",
	    L("User program accesses an unaligned memory address"), FIX_BUG }, PATS(EXIT(135)) },
	{ .spec = { 136, "ContainerSigFpeReceived", "USER_CONTAINER", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container killed by OS Signal: SIGFPE",
	    L("User program division by zero"), FIX_BUG }, PATS(EXIT(136)) },
	{ .spec = { 137, "ContainerSigKillReceived", "PAI_OS", "PAI_OS", "PLATFORM_FAILURE", "RUNNING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Container killed by OS Signal: SIGKILL", L("Kill container process by SIGKILL"),
	    RETRY_ADMIN }, PATS(EXIT(137)) },
	{ .spec = { 139, "ContainerSigSegvReceived", "USER_CONTAINER", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container killed by OS Signal: SIGSEGV",
	    L("User program accesses an illegal memory address"), FIX_BUG }, PATS(EXIT(139)) },
	{ .spec = { 141, "ContainerSigPipeReceived", "USER_CONTAINER", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container killed by OS Signal: SIGPIPE",
	    L("User program writes to a pipe without a process connected to the other end"), FIX_BUG },
	  PATS(EXIT(141)) },
	{ .spec = { 143, "ContainerSigTermReceived", "PAI_OS", "PAI_OS", "PLATFORM_FAILURE", "RUNNING", RT_TRANSIENT,
	    "ALWAYS_RETRY", "Container killed by OS Signal: SIGTERM", L("Kill container process by SIGTERM"),
	    RETRY_ADMIN }, PATS(EXIT(143)) },

	/* [200, 219] reserved by FrameworkController */

	/* [220, 255] PAI_RUNTIME: voluntary failures caused by the container itself */
	{ .spec = { 220, "UserCommandExitWithError", "USER_CONTAINER", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "User command is invalid", L("Start a job with invalid command"),
	    L("Check the user command", "Check the PATH environment variable in the container") },
	  PATS(EXIT_USER(127, "(?i)command not found")) },
	{ .spec = { 221, "ContainerTensorflowOOMKilled", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Tensorflow failed due to out of memory",
	    L("Tensorflow uses more memory than it is allocated"),
	    L("Increase per task memory request",
	      "Decrease per task memory usage by such as increasing task number", "Tuning the tensorflow program") },
	  PATS(USER("(?msi)tensorflow.*ResourceExhaustedError.*OOM.*"),
	       USER("(?i)ran out of memory trying to allocate")) },
	{ .spec = { 222, "ContainerMPISegvFault", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "MPI failed due to memory segmentation fault", L("MPI accesses unmapped memory region"),
	    FIX_BUG }, PATS(USER("(?msi)Signal code: Address not mapped.*")) },
	{ .spec = { 223, "ContainerCudaUncorrectableECCError", "PAI_RUNTIME", "PAI_HW", "PLATFORM_FAILURE", "RUNNING",
	    RT_TRANSIENT, "ALWAYS_RETRY", "Container failed due to GPU uncorrectable ECC error",
	    L("Run tensorflow on a GPU which has ECC error"), RETRY_ADMIN },
	  PATS(USER("(?msi)CUDA_ERROR_ECC_UNCORRECTABLE.*")) },
	{ .spec = { 224, "ContainerCudaVersionMismatch", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container failed due to cude version mismatch",
	    L("Using cude 10 in container with driver version below 410.48"),
	    L("Change docker image with correct cuda runtime version", "Contact Cluster Admin") },
	  PATS(USER("(?i)cuda driver version is insufficient for cuda runtime version")) },
	{ .spec = { 225, "ContainerCudaDnnVersionMismatch", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container failed due to cuda dnn version mismatch",
	    L("Running latest pytorch with old cuDNN lib"),
	    L("Change docker image with correct DL framework version") },
	  PATS(USER("(?i)dropout supported only in cudnn v")) },
	{ .spec = { 226, "ContainerCudaOOMKilled", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "Container failed due to out of gpu memory", L("Allocate GPU memory exceed hardware limit"),
	    L("Select GPU type which has more physical memory", "Tuning the program parameter to use less memory") },
	  /* file: "(?i)cuda runtime error (2) : out of memory" (see DESIGN) */
	  PATS(USER("(?i)cuda runtime error \\(?2\\)? : out of memory")) },
	{ .spec = { 227, "ContainerEngineCoreDump", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "Container failed due to engine core dump", L("Access invalid memory address"),
	    L("Correct the user code") }, PATS(USER("(?i)core dumped")) },
	{ .spec = { 228, "ContainerIncorrectParameterError", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container failed due to incorrect parameter",
	    L("Call tensorflow lib with incorrect parameters"), L("Correct the user code") },
	  PATS(USER("(?i)unknown option"),
	       /* file: "...dynamic_rnn() got..." (see DESIGN) */
	       USER("(?i)typeerror: dynamic_rnn\\(\\) got multiple values for keyword argument"),
	       USER("(?msi)bad argument #2 to .*"),
	       USER("(?i)invalid argument:"),
	       USER("(?i)option -start_symbol has no default value")) },
	{ .spec = { 229, "ContainerIncorrectDataModelError", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "Container failed due to incorrect data model",
	    L("Call DL framework lib with incorrect data model format"),
	    L("Correct the user code, use correct data model") },
	  PATS(USER("(?i)perhaps your file is in a different file format"),
	       USER("(?i)bash: bd5/bd5_bar-train.ids"),
	       USER("(?i)exception occurred: error opening file"),
	       /* file: "...: [errno 2] no such..." (see DESIGN) */
	       USER("(?i)filenotfounderror: \\[errno 2\\] no such file or directory"),
	       USER("(?i)unicodeencodeerror:"),
	       USER("(?i)unicodedecodeerror"),
	       USER("(?i)exception: unknown text header name"),
	       USER("(?i)exception: unknown label header name"),
	       USER("(?i)eoferror: ran out of input"),
	       USER("(?msi)utils.lua:.*input/output error"),
	       USER("(?msi)tensorflow.python.framework.errors.unknownerror:.*input/output error"),
	       USER("(?msi)oserror:.*input/output error"),
	       USER("(?msi)cp: failed to close.*input/output error"),
	       USER("(?msi)exception occurred:.* Input/output error")) },
	{ .spec = { 230, "ContainerInvalidSavePath", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "Container failed due to invalid save path", L("Use invalid save path to save model"),
	    L("Check the save path and correct it") },
	  PATS(USER("(?i)ValueError: Restore called with invalid save path")) },
	{ .spec = { 231, "ContainerSyntaxError", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "Container failed due to syntax error", L("User use invalid syntax in code"),
	    L("Check the source code and correct the errors") },
	  PATS(USER("(?i)syntaxerror: invalid syntax"),
	       USER("(?i)unpicklingerror"),
	       USER("(?i)assign requires shapes of both tensors to match"),
	       USER("(?msi)torch/install/share/lua.*c.* exception"),
	       USER("(?msi)attributeerror:.*has no attribute"),
	       USER("(?msi)nameerror: name.* is not defined")) },
	{ .spec = { 232, "ContainerImportError", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "Container failed due to error import", L("User import invalid module"),
	    L("Check the source code and correct it") }, PATS(USER("(?msi)importerror:.*")) },
	{ .spec = { 233, "ContainerIndexOutOfRange", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "User code access element which out of range", L("Access element out of range"),
	    L("Check the source code and correct it") }, PATS(USER("(?msi)indexerror:.*index out of range")) },
	{ .spec = { 234, "ContainerSigvFault", "PAI_RUNTIME", "USER_CONTAINER", "USER_FAILURE", "RUNNING", RT_PERMANENT,
	    "NEVER_RETRY", "Container failed due to segmentation fault", L("Access invalid memory address"),
	    L("Correct the user code") }, PATS(USER("(?i)segmentation fault")) },
	{ .spec = { 249, "PAIRuntimeSSHBarrierTimeout", "PAI_RUNTIME", "PAI_RUNTIME", "PLATFORM_FAILURE", "RUNNING",
	    RT_PERMANENT, "NEVER_RETRY", "SSH barrier reaches max retry count",
	    L("SSH barrier reaches max retry count, please check if SSH plugin is correctly configured"),
	    L("Check job config to confirm all SSH barrier relied task roles enabled SSH") },
	  PATS(EXIT_PLAT(10, "SSH barrier reaches max retry count")) },
	{ .spec = { 250, "FrameworkBarrierTransientFailed", "PAI_RUNTIME", "PAI_RUNTIME", "PLATFORM_FAILURE", "LAUNCHING",
	    RT_TRANSIENT, "ALWAYS_RETRY", "The FrameworkBarrier failed due to transient error", NONE,
	    RETRY_ADMIN } },
	{ .spec = { 251, "JobGangAllocationTimeout", "PAI_RUNTIME", "RESOURCE_ALLOCATION_TIMEOUT",
	    "RESOURCE_ALLOCATION_TIMEOUT", "ALLOCATING", RT_TRANSIENT_CONFLICT, "ALWAYS_BACKOFF_RETRY",
	    "All requested resources of all tasks in the job cannot be satisfied in time",
	    L("Request more containers in a guaranteed job than its virtual cluster current available"),
	    L("Wait result from next retry", "Decrease task number", "Decrease per task resource request",
	      "Contact Cluster Admin to increase your virtual cluster quota") } },
	{ .spec = { 252, "FrameworkBarrierPermanentFailed", "PAI_RUNTIME", "PAI_RUNTIME", "PLATFORM_FAILURE", "LAUNCHING",
	    RT_PERMANENT, "NEVER_RETRY", "The FrameworkBarrier failed due to permanent error",
	    L("Run FrameworkBarrier with BARRIER_CHECK_TIMEOUT_SEC equals to 1"),
	    L("Contact PAI Dev to fix the PAI Runtime bug") } },
	{ .spec = { 253, "ContainerPortConflict", "PAI_RUNTIME", "PAI_RUNTIME", "PLATFORM_FAILURE", "LAUNCHING",
	    RT_TRANSIENT, "ALWAYS_RETRY", "Can not alloc request ports due to ports is occupied",
	    L("Run task in a host which most of ports are occupied"),
	    L("Wait result from next retry", "Decrease per task ports request") } },
	{ .spec = { 254, "ContainerImageNotExists", "PAI_RUNTIME", "PAI_RUNTIME", "USER_FAILURE", "LAUNCHING", RT_PERMANENT,
	    "NEVER_RETRY", "Pull access denied, repository does not exist or may require authentication",
	    L("Submit job with incorrect docker image uri"), L("Correct docker image uri in job protocol") } },
	{ .spec = { 255, "PAIRuntimeUnknownFailed", "PAI_RUNTIME", "UNKNOWN", "UNKNOWN_FAILURE", "UNKNOWN", RT_UNKNOWN,
	    "RETRY_TO_MAX", "User command failed but the failure cannot be recognized by PAI Runtime",
	    L("User program directly exits with exitcode 1"),
	    L("Check container log and find root cause", "Wait result from next retry") } },

	/* shadow fallbacks: every undefined negative code, every undefined positive code */
	{ .spec = { -8000, "ContainerUndefinedNegativeExitCode", "UNKNOWN", "UNKNOWN", "UNKNOWN_FAILURE", "UNKNOWN",
	    RT_UNKNOWN, "RETRY_TO_MAX", "Container exited with undefined negative exitcode",
	    L("Remove code -100 in the spec, then repro -100"), L("Contact PAI Dev to recognize this exitcode") } },
	{ .spec = { 256, "PAIRuntimeExitAbnormally", "PAI_RUNTIME", "PAI_RUNTIME", "PLATFORM_FAILURE", "UNKNOWN", RT_UNKNOWN,
	    "RETRY_TO_MAX", "PAI Runtime exit abnormally with undefined exitcode, it may have bugs",
	    L("PAI Runtime exits with exitcode 1"), L("Contact PAI Dev to fix PAI Runtime bugs") } },
};

const size_t rt__exit_table_len = sizeof(rt__exit_table) / sizeof(rt__exit_table[0]);

static const struct rt_exit_spec *find(int code)
{
	for (size_t i = 0; i < rt__exit_table_len; i++)
		if (rt__exit_table[i].spec.code == code)
			return &rt__exit_table[i].spec;
	return NULL;
}

void rt_exit_spec_for(int code, struct rt_exit_spec *out)
{
	const struct rt_exit_spec *s = find(code);
	if (s) {
		*out = *s;
		return;
	}
	/* the raw code is comparable across jobs, so it overrides the fallback's */
	*out = *find(code > 0 ? 256 : -8000);
	out->code = code;
}
