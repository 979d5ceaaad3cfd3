// RA, Dec and radius of a cone search, each with its error: the sources and alerts searches.
import { Field, fieldProps } from "./Field";

type Cone = { ra: string; dec: string; radius: string };

type Props = {
  /** The form's id prefix: the fields are `${id}-ra`, `${id}-dec`, `${id}-radius`. */
  id: string;
  values: Cone;
  errors: Partial<Record<keyof Cone, string>>;
  onChange: (key: keyof Cone, value: string) => void;
};

export function ConeFields({ id, values, errors, onChange }: Props) {
  const field = (key: keyof Cone) => fieldProps(`${id}-${key}`, errors[key]);
  return (
    <div className="toolbar">
      <Field id={`${id}-ra`} label="RA" error={errors.ra}>
        <input
          {...field("ra")}
          value={values.ra}
          placeholder="hh:mm:ss or deg"
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => onChange("ra", event.target.value)}
        />
      </Field>
      <Field id={`${id}-dec`} label="Dec" error={errors.dec}>
        <input
          {...field("dec")}
          value={values.dec}
          placeholder="±dd:mm:ss or deg"
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => onChange("dec", event.target.value)}
        />
      </Field>
      <Field id={`${id}-radius`} label="Radius (arcsec)" error={errors.radius}>
        <input
          {...field("radius")}
          value={values.radius}
          inputMode="decimal"
          className="narrow"
          onChange={(event) => onChange("radius", event.target.value)}
        />
      </Field>
    </div>
  );
}
