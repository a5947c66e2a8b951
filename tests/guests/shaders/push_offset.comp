// A push-constant member at byte 1020: past what any pipeline here offers
// (refused by the block's Offset, not by its members' natural sizes).
#version 450
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer D { uint v; };
layout(push_constant) uniform P { layout(offset = 1020) uint x; } pc;
void main() { v = pc.x; }
