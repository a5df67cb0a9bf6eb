// Command go-client drives Confluent's Go client (confluent-kafka-go/v2) against lienthong's
// registry and broker.
//
// The jest suite in test/interop/ runs it with the path of a JSON plan in INTEROP_PLAN, and reads
// one JSON object per line from stdout: {"step", "call", "ok", "result"} or, when the call failed,
// {"step", "call", "ok": false, "error_code", "message"}. Every client keeps its default settings
// apart from the registry URL and credentials and the broker's address.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/rest"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/avrov2"
	"github.com/hamba/avro/v2"
)

type plan struct {
	Registry struct {
		URL  string `json:"url"`
		User string `json:"user"`
		Key  string `json:"key"`
	} `json:"registry"`
	BootstrapServers string            `json:"bootstrapServers"`
	KafkaConfig      map[string]string `json:"kafkaConfig"`
	RegistryCalls    struct {
		Subject        string            `json:"subject"`
		ForeignSubject string            `json:"foreignSubject"`
		Schemas        map[string]string `json:"schemas"`
	} `json:"registryCalls"`
	KeyOrder struct {
		Subject   string         `json:"subject"`
		Topic     string         `json:"topic"`
		Reordered string         `json:"reordered"`
		Value     map[string]any `json:"value"`
	} `json:"keyOrder"`
	Produce struct {
		Topic  string `json:"topic"`
		Schema string `json:"schema"`
		Events []struct {
			Mode        string         `json:"mode"`
			Key         string         `json:"key"`
			Traceparent string         `json:"traceparent"`
			Event       map[string]any `json:"event"`
		} `json:"events"`
	} `json:"produce"`
	Consume struct {
		Topic string `json:"topic"`
		Group string `json:"group"`
		Count int    `json:"count"`
	} `json:"consume"`
}

var deadline time.Time

// client is the registry client every step uses.
var client schemaregistry.Client

func emit(line map[string]any) {
	out, err := json.Marshal(line)
	if err != nil {
		out, _ = json.Marshal(map[string]any{"step": line["step"], "ok": false, "message": err.Error()})
	}
	fmt.Println(string(out))
}

// step runs one client call and reports its result, or the registry's error_code. The Go client's
// error carries no HTTP status, only Confluent's error_code and message.
//
// The client remembers what it registered and looked up, and would answer a later call from
// memory: emptying its caches first makes every step a request that the registry answers.
func step(name, call string, fn func() (any, error)) any {
	if client != nil {
		if err := client.ClearCaches(); err != nil {
			emit(map[string]any{"step": name, "call": "ClearCaches", "ok": false, "message": err.Error()})
			return nil
		}
	}
	result, err := fn()
	if err != nil {
		var restErr *rest.Error
		if errors.As(err, &restErr) {
			emit(map[string]any{"step": name, "call": call, "ok": false, "error_code": restErr.Code, "message": restErr.Message})
		} else {
			emit(map[string]any{"step": name, "call": call, "ok": false, "error_code": nil, "message": err.Error()})
		}
		return nil
	}
	emit(map[string]any{"step": name, "call": call, "ok": true, "result": result})
	return result
}

func metadata(m schemaregistry.SchemaMetadata) map[string]any {
	return map[string]any{"id": m.ID, "subject": m.Subject, "version": m.Version, "schema": m.Schema}
}

// config prints a server config with its levels by name, as the registry wrote them.
func config(c schemaregistry.ServerConfig, err error) (map[string]any, error) {
	out := map[string]any{}
	if c.CompatibilityUpdate != 0 {
		out["compatibility"] = c.CompatibilityUpdate.String()
	}
	if c.CompatibilityLevel != 0 {
		out["compatibilityLevel"] = c.CompatibilityLevel.String()
	}
	return out, err
}

func registryCalls(sr schemaregistry.Client, p *plan) {
	subject := p.RegistryCalls.Subject
	v1 := schemaregistry.SchemaInfo{Schema: p.RegistryCalls.Schemas["v1"]}
	v2 := schemaregistry.SchemaInfo{Schema: p.RegistryCalls.Schemas["v2"]}
	bad := schemaregistry.SchemaInfo{Schema: p.RegistryCalls.Schemas["incompatible"]}
	id1, _ := step("register", "Register", func() (any, error) { return sr.Register(subject, v1, false) }).(int)
	step("get_subjects", "GetAllSubjects", func() (any, error) { return sr.GetAllSubjects() })
	step("get_versions", "GetAllVersions", func() (any, error) { return sr.GetAllVersions(subject) })
	step("get_schema", "GetBySubjectAndID", func() (any, error) {
		info, err := sr.GetBySubjectAndID("", id1)
		return info.Schema, err
	})
	step("get_version", "GetSchemaMetadata", func() (any, error) {
		m, err := sr.GetSchemaMetadata(subject, 1)
		return metadata(m), err
	})
	step("get_latest_version", "GetLatestSchemaMetadata", func() (any, error) {
		m, err := sr.GetLatestSchemaMetadata(subject)
		return metadata(m), err
	})
	step("lookup_schema", "GetID", func() (any, error) { return sr.GetID(subject, v1, false) })
	step("lookup_version", "GetVersion", func() (any, error) { return sr.GetVersion(subject, v1, false) })
	step("test_compatibility", "TestCompatibility", func() (any, error) { return sr.TestCompatibility(subject, -1, v2) })
	step("test_compatibility_all", "TestSubjectCompatibility", func() (any, error) { return sr.TestSubjectCompatibility(subject, v2) })
	step("test_incompatible", "TestCompatibility", func() (any, error) { return sr.TestCompatibility(subject, 1, bad) })
	step("register_evolved", "Register", func() (any, error) { return sr.Register(subject, v2, false) })
	step("get_versions_evolved", "GetAllVersions", func() (any, error) { return sr.GetAllVersions(subject) })
	step("register_incompatible", "Register", func() (any, error) { return sr.Register(subject, bad, false) })
	step("set_compatibility", "UpdateCompatibility", func() (any, error) {
		c, err := sr.UpdateCompatibility(subject, schemaregistry.Forward)
		return c.String(), err
	})
	step("get_compatibility", "GetCompatibility", func() (any, error) {
		c, err := sr.GetCompatibility(subject)
		return c.String(), err
	})
	step("get_compatibility_global", "GetDefaultCompatibility", func() (any, error) {
		c, err := sr.GetDefaultCompatibility()
		return c.String(), err
	})
	step("get_config", "GetConfig", func() (any, error) { return config(sr.GetConfig(subject, false)) })
	step("set_config", "UpdateConfig", func() (any, error) {
		return config(sr.UpdateConfig(subject, schemaregistry.ServerConfig{CompatibilityUpdate: schemaregistry.Full}))
	})
	step("get_config_after_set", "GetConfig", func() (any, error) { return config(sr.GetConfig(subject, false)) })
	step("get_config_global", "GetDefaultConfig", func() (any, error) { return config(sr.GetDefaultConfig()) })
	step("get_contexts", "GetAllContexts", func() (any, error) { return sr.GetAllContexts() })
	step("get_latest_with_metadata", "GetLatestWithMetadata", func() (any, error) {
		m, err := sr.GetLatestWithMetadata(subject, map[string]string{"owner": "HN-CUCTHUE"}, false)
		return metadata(m), err
	})
	step("get_schema_versions", "GetSubjectsAndVersionsByID", func() (any, error) { return sr.GetSubjectsAndVersionsByID(id1) })
	step("delete_version", "DeleteSubjectVersion", func() (any, error) { return sr.DeleteSubjectVersion(subject, 2, false) })
	step("get_versions_after_delete", "GetAllVersions", func() (any, error) { return sr.GetAllVersions(subject) })
	step("get_version_deleted", "GetSchemaMetadataIncludeDeleted", func() (any, error) {
		m, err := sr.GetSchemaMetadataIncludeDeleted(subject, 2, true)
		return metadata(m), err
	})
	step("lookup_version_deleted", "GetVersionIncludeDeleted", func() (any, error) {
		return sr.GetVersionIncludeDeleted(subject, v2, false, true)
	})
	step("delete_version_permanent", "DeleteSubjectVersion", func() (any, error) { return sr.DeleteSubjectVersion(subject, 2, true) })
	step("get_versions_after_permanent", "GetAllVersions", func() (any, error) { return sr.GetAllVersions(subject) })
	step("delete_subject", "DeleteSubject", func() (any, error) { return sr.DeleteSubject(subject, false) })
	step("get_subjects_after_delete", "GetAllSubjects", func() (any, error) { return sr.GetAllSubjects() })
	step("get_latest_after_delete", "GetLatestSchemaMetadata", func() (any, error) {
		m, err := sr.GetLatestSchemaMetadata(subject)
		return metadata(m), err
	})
	step("delete_subject_permanent", "DeleteSubject", func() (any, error) { return sr.DeleteSubject(subject, true) })
	step("get_subjects_after_permanent", "GetAllSubjects", func() (any, error) { return sr.GetAllSubjects() })
}

// refusals: a read without a credential, and a write to another agency's subject.
func refusals(sr schemaregistry.Client, p *plan) {
	step("get_subjects_anonymous", "GetAllSubjects", func() (any, error) {
		anonymous, err := schemaregistry.NewClient(schemaregistry.NewConfig(p.Registry.URL))
		if err != nil {
			return nil, err
		}
		return anonymous.GetAllSubjects()
	})
	step("register_foreign", "Register", func() (any, error) {
		return sr.Register(p.RegistryCalls.ForeignSubject, schemaregistry.SchemaInfo{Schema: p.RegistryCalls.Schemas["v1"]}, false)
	})
}

// keyOrder looks up, in three ways, the schema the Python driver registered, sent here with its
// JSON keys in another order: each must find the same id, and the subject must keep one version.
func keyOrder(sr schemaregistry.Client, p *plan) {
	info := schemaregistry.SchemaInfo{Schema: p.KeyOrder.Reordered}
	step("key_order_lookup", "GetID", func() (any, error) { return sr.GetID(p.KeyOrder.Subject, info, false) })
	step("key_order_register", "Register", func() (any, error) { return sr.Register(p.KeyOrder.Subject, info, false) })
	step("key_order_serializer", "avrov2.Serializer[auto-register]", func() (any, error) {
		schema, err := avro.Parse(p.KeyOrder.Reordered)
		if err != nil {
			return nil, err
		}
		ser, err := avrov2.NewSerializer(sr, serde.ValueSerde, avrov2.NewSerializerConfig())
		if err != nil {
			return nil, err
		}
		// The serializer sends the schema as hamba/avro prints it, in an order of its own.
		bytes, err := ser.Serialize(p.KeyOrder.Topic, newDatum(schema, p.KeyOrder.Value))
		if err != nil {
			return nil, err
		}
		return schemaID(bytes), nil
	})
	step("key_order_versions", "GetAllVersions", func() (any, error) { return sr.GetAllVersions(p.KeyOrder.Subject) })
}

// datum is a generic Avro record. In its auto-register and lookup modes the serializer takes the
// schema from the message's Schema method, then marshals what the pointer points to: the map.
// A driver runs one serializer at a time, so the schema can sit beside the type.
type datum map[string]any

var datumSchema avro.Schema

func (*datum) Schema() avro.Schema { return datumSchema }

func newDatum(schema avro.Schema, value map[string]any) *datum {
	datumSchema = schema
	d := datum(toHamba(schema, value).(map[string]any))
	return &d
}

func schemaID(payload []byte) int {
	if len(payload) < 5 {
		return -1
	}
	return int(binary.BigEndian.Uint32(payload[1:5]))
}

// toHamba turns an event as lienthong's JSON writes it (avsc: a union of records as
// {fullName: record}, a nullable value bare) into hamba/avro's generic form, where every union
// value is a map from the branch's name to its value and an empty map is null.
func toHamba(schema avro.Schema, value any) any {
	switch s := schema.(type) {
	case *avro.RefSchema:
		return toHamba(s.Schema(), value)
	case *avro.RecordSchema:
		in, _ := value.(map[string]any)
		out := make(map[string]any, len(s.Fields()))
		for _, f := range s.Fields() {
			out[f.Name()] = toHamba(f.Type(), in[f.Name()])
		}
		return out
	case *avro.UnionSchema:
		if value == nil {
			return map[string]any{}
		}
		if wrapped, ok := value.(map[string]any); ok && len(wrapped) == 1 {
			for name, inner := range wrapped {
				if branch, _ := s.Types().Get(name); branch != nil {
					return map[string]any{name: toHamba(branch, inner)}
				}
			}
		}
		for _, branch := range s.Types() {
			if branch.Type() != avro.Null {
				return map[string]any{unionName(branch): toHamba(branch, value)}
			}
		}
		return value
	case *avro.ArraySchema:
		in, _ := value.([]any)
		out := make([]any, len(in))
		for i, v := range in {
			out[i] = toHamba(s.Items(), v)
		}
		return out
	case *avro.MapSchema:
		in, _ := value.(map[string]any)
		out := make(map[string]any, len(in))
		for k, v := range in {
			out[k] = toHamba(s.Values(), v)
		}
		return out
	case *avro.PrimitiveSchema:
		number, isNumber := value.(float64)
		switch {
		case isNumber && s.Logical() != nil && s.Logical().Type() == avro.TimestampMillis:
			return time.UnixMilli(int64(number)).UTC()
		case s.Logical() != nil && s.Logical().Type() == avro.Decimal:
			// lienthong writes a decimal as its decimal string; hamba/avro takes a *big.Rat.
			if text, ok := value.(string); ok {
				if rat, ok := new(big.Rat).SetString(text); ok {
					return rat
				}
			}
		case isNumber && s.Type() == avro.Long:
			return int64(number)
		case isNumber && s.Type() == avro.Int:
			return int(number)
		case isNumber && s.Type() == avro.Float:
			return float32(number)
		}
	}
	return value
}

func unionName(s avro.Schema) string {
	if named, ok := s.(avro.NamedSchema); ok {
		return named.FullName()
	}
	if ref, ok := s.(*avro.RefSchema); ok {
		return ref.Schema().FullName()
	}
	return string(s.Type())
}

// fromHamba prints a decoded datum as the suite compares it: a union's value bare rather than
// under its branch's name, timestamps in epoch milliseconds.
func fromHamba(schema avro.Schema, value any) any {
	switch s := schema.(type) {
	case *avro.RefSchema:
		return fromHamba(s.Schema(), value)
	case *avro.RecordSchema:
		in, _ := value.(map[string]any)
		out := make(map[string]any, len(in))
		for _, f := range s.Fields() {
			out[f.Name()] = fromHamba(f.Type(), in[f.Name()])
		}
		return out
	case *avro.UnionSchema:
		if wrapped, ok := value.(map[string]any); ok && len(wrapped) == 1 {
			for name, inner := range wrapped {
				if branch, _ := s.Types().Get(name); branch != nil {
					return fromHamba(branch, inner)
				}
			}
		}
		if value == nil {
			return nil
		}
		for _, branch := range s.Types() {
			if branch.Type() != avro.Null {
				return fromHamba(branch, value)
			}
		}
	case *avro.ArraySchema:
		in, _ := value.([]any)
		out := make([]any, len(in))
		for i, v := range in {
			out[i] = fromHamba(s.Items(), v)
		}
		return out
	case *avro.MapSchema:
		in, _ := value.(map[string]any)
		out := make(map[string]any, len(in))
		for k, v := range in {
			out[k] = fromHamba(s.Values(), v)
		}
		return out
	}
	switch v := value.(type) {
	case time.Time:
		return v.UnixMilli()
	case *big.Rat:
		return v.FloatString(decimalScale(schema))
	}
	return value
}

func decimalScale(schema avro.Schema) int {
	if p, ok := schema.(*avro.PrimitiveSchema); ok {
		if d, ok := p.Logical().(*avro.DecimalLogicalSchema); ok {
			return d.Scale()
		}
	}
	return 0
}

// kafkaConfig is the broker's address and its SASL_SSL settings, plus extra; every other
// setting is the client's default.
func kafkaConfig(p *plan, extra kafka.ConfigMap) *kafka.ConfigMap {
	config := kafka.ConfigMap{"bootstrap.servers": p.BootstrapServers}
	for k, v := range p.KafkaConfig {
		config[k] = v
	}
	for k, v := range extra {
		config[k] = v
	}
	return &config
}

func produce(sr schemaregistry.Client, p *plan) {
	contract, err := avro.Parse(p.Produce.Schema)
	if err != nil {
		step("produce", "avro.Parse", func() (any, error) { return nil, err })
		return
	}
	producer, err := kafka.NewProducer(kafkaConfig(p, nil))
	if err != nil {
		step("produce", "kafka.NewProducer", func() (any, error) { return nil, err })
		return
	}
	defer producer.Close()
	topic := p.Produce.Topic
	for i, item := range p.Produce.Events {
		conf := avrov2.NewSerializerConfig() // the default: auto-register
		switch item.Mode {
		case "lookup":
			conf.AutoRegisterSchemas = false
		case "use-latest-version":
			conf.AutoRegisterSchemas = false
			conf.UseLatestVersion = true
		}
		step("produce_"+strconv.Itoa(i), "avrov2.Serializer["+item.Mode+"] + Producer.Produce", func() (any, error) {
			ser, err := avrov2.NewSerializer(sr, serde.ValueSerde, conf)
			if err != nil {
				return nil, err
			}
			value, err := ser.Serialize(topic, newDatum(contract, item.Event))
			if err != nil {
				return nil, err
			}
			delivery := make(chan kafka.Event, 1)
			err = producer.Produce(&kafka.Message{
				TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
				Key:            []byte(item.Key),
				Value:          value,
				Headers:        []kafka.Header{{Key: "traceparent", Value: []byte(item.Traceparent)}},
			}, delivery)
			if err != nil {
				return nil, err
			}
			select {
			case e := <-delivery:
				m := e.(*kafka.Message)
				if m.TopicPartition.Error != nil {
					return nil, m.TopicPartition.Error
				}
				return map[string]any{"mode": item.Mode, "schemaId": schemaID(value),
					"partition": m.TopicPartition.Partition, "offset": int64(m.TopicPartition.Offset)}, nil
			case <-time.After(time.Until(deadline)):
				return nil, errors.New("not delivered before the deadline")
			}
		})
	}
}

func consume(sr schemaregistry.Client, p *plan) {
	step("consume", "Consumer.ReadMessage + avrov2.Deserializer", func() (any, error) {
		deser, err := avrov2.NewDeserializer(sr, serde.ValueSerde, avrov2.NewDeserializerConfig())
		if err != nil {
			return nil, err
		}
		// group.id is required by the client even for assigned partitions; nothing is committed.
		consumer, err := kafka.NewConsumer(kafkaConfig(p, kafka.ConfigMap{"group.id": p.Consume.Group}))
		if err != nil {
			return nil, err
		}
		defer consumer.Close()
		topic := p.Consume.Topic
		meta, err := consumer.GetMetadata(&topic, false, 10_000)
		if err != nil {
			return nil, err
		}
		var assignment []kafka.TopicPartition
		for _, partition := range meta.Topics[topic].Partitions {
			assignment = append(assignment, kafka.TopicPartition{Topic: &topic, Partition: partition.ID, Offset: kafka.OffsetBeginning})
		}
		if err := consumer.Assign(assignment); err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for len(out) < p.Consume.Count && time.Now().Before(deadline) {
			msg, err := consumer.ReadMessage(time.Second)
			if err != nil {
				var kerr kafka.Error
				if errors.As(err, &kerr) && kerr.IsTimeout() {
					continue
				}
				return nil, err
			}
			var decoded map[string]any
			if err := deser.DeserializeInto(topic, msg.Value, &decoded); err != nil {
				return nil, err
			}
			// The writer's schema again, from the client's cache, to print the datum by.
			writer, err := sr.GetBySubjectAndID("", schemaID(msg.Value))
			if err != nil {
				return nil, err
			}
			schema, err := avro.Parse(writer.Schema)
			if err != nil {
				return nil, err
			}
			out = append(out, map[string]any{"partition": msg.TopicPartition.Partition,
				"offset": int64(msg.TopicPartition.Offset), "schemaId": schemaID(msg.Value),
				"value": fromHamba(schema, decoded)})
		}
		return out, nil
	})
}

func main() {
	budget, err := strconv.Atoi(os.Getenv("INTEROP_BUDGET_SECONDS"))
	if err != nil {
		budget = 90
	}
	deadline = time.Now().Add(time.Duration(budget) * time.Second)
	raw, err := os.ReadFile(os.Getenv("INTEROP_PLAN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var p plan
	if err := json.Unmarshal(raw, &p); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	sr, err := schemaregistry.NewClient(schemaregistry.NewConfigWithBasicAuthentication(p.Registry.URL, p.Registry.User, p.Registry.Key))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	client = sr
	registryCalls(sr, &p)
	refusals(sr, &p)
	keyOrder(sr, &p)
	produce(sr, &p)
	consume(sr, &p)
	emit(map[string]any{"step": "done", "call": "exit", "ok": true})
}
