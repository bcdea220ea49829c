import { useEffect, useRef, useState } from 'react';
import type { ModelInfo } from '../../../shared/types';
import { useApi } from './context';

/** The shipped model, preferred over any other installed one (test models, user models). */
const SHIPPED_MODEL_ID = 'healthy-brain-ddpm';

/**
 * The installed inpainting models, for the panels that offer the diffusion model. Once the list
 * is in, `onLoaded` gets the model to preselect, or null when none is installed (the panel then
 * falls back to a classical method).
 */
export function useInpaintingModels(onLoaded: (preferredId: string | null) => void, onError: (message: string) => void): ModelInfo[] {
  const api = useApi();
  const [models, setModels] = useState<ModelInfo[]>([]);
  const callbacks = useRef({ onLoaded, onError });
  callbacks.current = { onLoaded, onError };
  useEffect(() => {
    let alive = true;
    api.call('models.list', {}).then(
      (list) => {
        if (!alive) return;
        const inpainting = list.filter((m) => m.kind === 'inpainting');
        setModels(inpainting);
        callbacks.current.onLoaded((inpainting.find((m) => m.id === SHIPPED_MODEL_ID) ?? inpainting[0])?.id ?? null);
      },
      (e: Error) => alive && callbacks.current.onError(e.message),
    );
    return () => {
      alive = false;
    };
  }, [api]);
  return models;
}
