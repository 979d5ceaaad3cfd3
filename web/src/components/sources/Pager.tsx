// Previous/next page controls with the range shown and the total count.
import { pageRange } from "../../lib/search";

type Props = {
  label: string;
  page: number;
  perPage: number;
  total: number;
  onPage: (page: number) => void;
};

export function Pager({ label, page, perPage, total, onPage }: Props) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="secondary"
        disabled={page <= 1}
        onClick={() => onPage(page - 1)}
      >
        Previous page
      </button>
      <span>
        Page {page} of {pages} <span className="muted">({pageRange(page, perPage, total)})</span>
      </span>
      <button
        type="button"
        className="secondary"
        disabled={page >= pages}
        onClick={() => onPage(page + 1)}
      >
        Next page
      </button>
    </nav>
  );
}
