import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Button } from '../components/ui';
import { DeployDialog } from './DeployDialog';
import { isDeployable } from './deploy-form';
import { DeployIcon } from './icons';
import { deploymentPath } from './paths';

/** "Deploy…" for one model version (on its page in the registry): the deploy dialog with it chosen. */
export function DeployButton({ model, version, format }: { model: string; version: number; format: string }) {
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const deployable = isDeployable(format);
  return (
    <>
      <Button
        size="sm"
        onClick={() => setOpen(true)}
        disabled={!deployable}
        title={deployable ? `Serve ${model} v${version}` : 'Only GGUF and ONNX models can be deployed'}
      >
        <DeployIcon width={13} height={13} /> Deploy…
      </Button>
      <DeployDialog
        open={open}
        onClose={() => setOpen(false)}
        model={model}
        version={version}
        onDeployed={(d) => void navigate(deploymentPath(d.name))}
      />
    </>
  );
}
