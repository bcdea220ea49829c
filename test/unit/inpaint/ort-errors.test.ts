import { describe, expect, it } from 'vitest';
import { readableOrtError } from '../../../src/main/core/inpaint/runtime';

// What ONNX Runtime 1.30 says on a machine without a GPU, as recorded in a run's device line.
const WEBGPU_NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';

describe('ONNX Runtime errors in the provenance', () => {
  it('keeps the explanation of a failed assertion, not the C++ signature in front of it', () => {
    expect(readableOrtError(new Error(WEBGPU_NO_ADAPTER))).toBe('Failed to get a WebGPU adapter: No supported adapters');
  });

  it('drops the source location of other errors and keeps messages without one as they are', () => {
    expect(readableOrtError(new Error('/onnxruntime_src/onnxruntime/core/graph/model.cc:180 onnxruntime::Model::Model Unsupported model IR version: 12\nmore'))).toBe('Unsupported model IR version: 12');
    expect(readableOrtError('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library')).toBe('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
  });
});
