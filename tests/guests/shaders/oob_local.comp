// Indexes workgroup and private arrays far outside their bounds with an
// index the HAL cannot see (it comes from a buffer): it must be clamped,
// never reach other memory (on a CPU driver: the host's).
#version 450
layout(local_size_x = 4) in;
layout(std430, binding = 0) buffer D { uint idx; uint out_shared; uint out_private; };
shared uint sh[16];
void main() {
  uint p[8];
  for (uint i = 0u; i < 8u; i++) p[i] = i;
  sh[gl_LocalInvocationID.x] = 7u;
  barrier();
  sh[idx] = 0xdeadbeefu;
  p[idx] = 0xdeadbeefu;
  barrier();
  out_shared = sh[idx ^ 1u];
  out_private = p[(idx + 3u) & 0xffffffffu];
}
