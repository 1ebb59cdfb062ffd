// Pure helpers for the cart: no I/O, nothing to report.
export function total(items, discount = 0) {
  let sum = 0;
  for (const item of items) {
    if (item.quantity > 0 && item.price > 0) {
      sum += item.quantity * item.price;
    }
  }
  return Math.max(0, sum - discount);
}

export const byCategory = (items) =>
  items.reduce((groups, item) => {
    (groups[item.category] ??= []).push(item);
    return groups;
  }, {});

export function parseRule(text) {
  return JSON.parse(text);
}
