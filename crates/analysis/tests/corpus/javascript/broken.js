// A half-edited file: the parser must point at the problem.
export function price(item) {
  return item.price * item.quantity;
}

export function label(item) {
  const text = = item.name; // expect: syntax
  return text;
}
