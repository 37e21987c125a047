// models/kernels/validate.h — argument checks shared by every backend. Each throws
// std::invalid_argument naming the offending field when an op's arguments break the
// contract written on its struct in backend.h; backends call them before any work.
#ifndef SERVESIM_MODELS_KERNELS_VALIDATE_H_
#define SERVESIM_MODELS_KERNELS_VALIDATE_H_

#include "backend.h"

namespace servesim::kernels {

void ValidateGemm(const GemmArgs& a);
void ValidateRmsNorm(const RmsNormArgs& a);
void ValidateAct(const ActArgs& a);
void ValidateRopeCache(const RopeCacheArgs& a);
void ValidatePrefill(const PrefillArgs& a);
void ValidateDecode(const DecodeArgs& a);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_VALIDATE_H_
