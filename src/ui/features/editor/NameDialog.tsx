import { useEffect, useRef, useState } from 'react';

/** A small modal asking for a config path (new, rename, duplicate). */
export function NameDialog({ title, label, initial, submitLabel, onSubmit, onCancel }: {
  title: string;
  label: string;
  initial: string;
  submitLabel: string;
  onSubmit(value: string): Promise<void> | void;
  onCancel(): void;
}) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.focus();
    const dot = initial.lastIndexOf('.');
    el.setSelectionRange(initial.lastIndexOf('/') + 1, dot > 0 ? dot : initial.length);
  }, [initial]);
  const submit = async () => {
    try {
      await onSubmit(value.trim());
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div className="dialog" role="dialog" aria-modal="true" aria-label={title}>
        <h3>{title}</h3>
        <label htmlFor="name-dialog-input">{label}</label>
        <input
          id="name-dialog-input"
          ref={input}
          value={value}
          spellCheck={false}
          onChange={(e) => {
            setValue(e.target.value);
            setError('');
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void submit();
            if (e.key === 'Escape') onCancel();
          }}
        />
        <div className="dialog-error" role="alert">
          {error}
        </div>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" onClick={() => void submit()}>
            {submitLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
