// A React component with props and state: nothing to report.
import { useState } from "react";

type Props = { initial: number; step?: number };

export function Counter({ initial, step = 1 }: Props) {
  const [count, setCount] = useState(initial);
  const label = count === 1 ? "1 click" : `${count} clicks`;
  return (
    <button type="button" onClick={() => setCount((c) => c + step)}>
      {label}
    </button>
  );
}
